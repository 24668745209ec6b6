-- `make soak` (scripts/soak.sh): a mix of requests that all answer 2xx when
-- the service is well, so any other status is an error of the soak:
-- GET /health, GET /attestation/quote (an enclave call), GET
-- /api/logs/$SOAK_RESULT_ID (a database read), in turn.
--
-- SOAK_RATE > 0 paces the run at that many requests per second in total
-- (SOAK_THREADS wrk threads share it). A fixed delay() per request gives
-- connections * 1000 / (delay + latency) per second, short of the target by
-- the latency (the first soak reached 40 % of capacity instead of 50 %), so
-- each thread keeps a schedule instead: every request a connection is about
-- to send takes the next slot, one per 1000 * threads / SOAK_RATE ms, and
-- waits until that slot's time (monotonic clock, through LuaJIT's ffi). A
-- thread that fell behind (every connection busy) catches up at once, but
-- never on more than a second of slots.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local paths = {"/health", "/attestation/quote", "/api/logs/" .. (os.getenv("SOAK_RESULT_ID") or "")}
local n = 0
local rate = tonumber(os.getenv("SOAK_RATE") or "0")
local nthreads = tonumber(os.getenv("SOAK_THREADS") or "1")

function request()
   n = n + 1
   return wrk.format("GET", paths[(n % #paths) + 1])
end

if rate > 0 then
   local ffi = require("ffi")
   ffi.cdef [[
      typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
      int clock_gettime(int clock, soak_timespec *ts);
   ]]
   local CLOCK_MONOTONIC = 1
   local ts = ffi.new("soak_timespec")
   local function now_ms()
      ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
      return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
   end
   local interval = 1000 * nthreads / rate
   local slot = nil

   function delay()
      local now = now_ms()
      if slot == nil or slot < now - 1000 then
         slot = now
      end
      slot = slot + interval
      local wait = slot - now
      return wait > 0 and math.floor(wait + 0.5) or 0
   end
end
