-- Shared by every wrk script of `make bench` (scripts/bench.sh): counts the
-- status code of every response and, when the run ends, writes the run's
-- figures as JSON to $BENCH_WRK_OUT. Loaded with dofile() by each route
-- script, which then adds its own request() when it needs one.
--
-- wrk runs this file in one Lua state per thread plus one for setup/done:
-- `statuses` and `extra` are globals of each thread's state, read back with
-- thread:get() in done().

statuses = {}
extra = {}
tid = 0
local threads = {}

function setup(thread)
   thread:set("tid", #threads)
   table.insert(threads, thread)
end

function response(status, headers, body)
   local k = tostring(status)
   statuses[k] = (statuses[k] or 0) + 1
end

local function json_encode(v)
   local t = type(v)
   if t == "table" then
      local parts = {}
      for k, x in pairs(v) do
         table.insert(parts, string.format("%q: %s", tostring(k), json_encode(x)))
      end
      table.sort(parts)
      return "{" .. table.concat(parts, ", ") .. "}"
   elseif t == "number" then
      return string.format("%.17g", v)
   elseif t == "boolean" then
      return tostring(v)
   elseif t == "nil" then
      return "null"
   end
   return string.format("%q", v)
end

function done(summary, latency, requests)
   local merged, merged_extra = {}, {}
   for _, thread in ipairs(threads) do
      for k, n in pairs(thread:get("statuses") or {}) do
         merged[k] = (merged[k] or 0) + n
      end
      for k, n in pairs(thread:get("extra") or {}) do
         merged_extra[k] = (merged_extra[k] or 0) + n
      end
   end
   local out = {
      requests = summary.requests,
      duration_s = summary.duration / 1e6,
      requests_per_s = summary.requests / (summary.duration / 1e6),
      bytes = summary.bytes,
      errors = {connect = summary.errors.connect, read = summary.errors.read,
                write = summary.errors.write, status = summary.errors.status,
                timeout = summary.errors.timeout},
      latency_ms = {mean = latency.mean / 1e3, max = latency.max / 1e3,
                    p50 = latency:percentile(50) / 1e3, p90 = latency:percentile(90) / 1e3,
                    p99 = latency:percentile(99) / 1e3, p999 = latency:percentile(99.9) / 1e3},
      statuses = merged,
      extra = merged_extra,
   }
   local path = os.getenv("BENCH_WRK_OUT")
   local f = assert(io.open(path, "w"))
   f:write(json_encode(out), "\n")
   f:close()
end
