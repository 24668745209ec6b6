-- `make soak` (scripts/soak.sh): a mix of requests that all answer 2xx when
-- the service is well, so any other status is an error of the soak:
-- GET /health, GET /attestation/quote (an enclave call), GET
-- /api/logs/$SOAK_RESULT_ID (a database read), in turn.
-- SOAK_DELAY_MS > 0 paces each connection (wrk's delay()): the rate is then
-- about connections * 1000 / (SOAK_DELAY_MS + latency) per second.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local paths = {"/health", "/attestation/quote", "/api/logs/" .. (os.getenv("SOAK_RESULT_ID") or "")}
local n = 0
local pause = tonumber(os.getenv("SOAK_DELAY_MS") or "0")

function request()
   n = n + 1
   return wrk.format("GET", paths[(n % #paths) + 1])
end

if pause > 0 then
   function delay()
      return pause
   end
end
