-- POST /enclave/submit_key with distinct, validly sealed envelopes from
-- $BENCH_BODIES (one JSON body per line, made by build-bench/seal_many before
-- the run). Thread t of $BENCH_THREADS takes lines t, t+N, t+2N, ... so no two
-- threads send the same envelope. A thread that runs out starts its share
-- again; those replays are counted in extra.replayed_bodies and show up as
-- 409 in the status mix, so a pool too small for the rate is visible.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local bodies, n, i = {}, 0, 0
local headers = {["Content-Type"] = "application/json"}

function init(args)
   local nthreads = tonumber(os.getenv("BENCH_THREADS"))
   local k = 0
   for line in io.lines(os.getenv("BENCH_BODIES")) do
      if k % nthreads == tid then
         n = n + 1
         bodies[n] = line
      end
      k = k + 1
   end
   extra.bodies = n
   extra.replayed_bodies = 0
end

local wrapped = false

function request()
   i = i + 1
   if i > n then
      i, wrapped = 1, true
   end
   if wrapped then
      extra.replayed_bodies = extra.replayed_bodies + 1
   end
   return wrk.format("POST", "/enclave/submit_key", headers, bodies[i])
end
