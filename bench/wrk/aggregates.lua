-- POST /enclave/request_aggregates for one session ($BENCH_SESSION) whose
-- account holds 10,000 fills: every request is a whole run (exchange fetch
-- through the relay, aggregation, signing, storing the result).
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"session_id":"' .. (os.getenv("BENCH_SESSION") or "") .. '"}'
