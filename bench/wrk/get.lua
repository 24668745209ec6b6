-- GET of one fixed path (wrk's URL): /health, /attestation/quote without a
-- nonce, and nginx's static /health. The request is built once by wrk.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")
