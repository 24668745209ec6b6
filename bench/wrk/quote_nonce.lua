-- GET /attestation/quote?nonce=... with a distinct nonce per request: the
-- server refuses a repeated nonce (400 invalid_nonce), and a fresh nonce is
-- what makes the enclave sign a new document. Nonce: 24 ASCII bytes
-- (thread, run start, counter), standard base64 (32 characters, no padding),
-- '+' and '/' percent-encoded.
dofile(os.getenv("BENCH_LUA_DIR") .. "/common.lua")

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
local counter = 0
local started = os.time() % 10000000000

local function b64(s)
   local out = {}
   for i = 1, #s, 3 do -- callers pass a multiple of 3 bytes
      local a, b, c = s:byte(i, i + 2)
      local n = a * 65536 + b * 256 + c
      for shift = 18, 0, -6 do
         local d = math.floor(n / 2 ^ shift) % 64
         table.insert(out, alphabet:sub(d + 1, d + 1))
      end
   end
   return table.concat(out)
end

function request()
   counter = counter + 1
   local nonce = b64(string.format("%02d%010d%012d", tid, started, counter))
   nonce = nonce:gsub("%+", "%%2B"):gsub("/", "%%2F")
   return wrk.format("GET", "/attestation/quote?nonce=" .. nonce)
end
