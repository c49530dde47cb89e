-- wrk script: WhatsApp Cloud API webhooks, each a batch of `per` text messages from as many
-- citizens, every message id new, signed as Meta signs them (X-Hub-Signature-256: sha256=
-- HMAC-SHA256 of the raw body with the app secret). Used by bench/whatsapp_batch.py:
--   wrk ... -s bench/wrk/whatsapp_batch.lua URL -- APP_SECRET PER RUN CHECK_BODY CHECK_HMAC
-- CHECK_BODY/CHECK_HMAC: a body and its HMAC computed in Python; init refuses to run when
-- this file's HMAC disagrees (a wrong signature would only measure 403s).

local bit = require("bit")
local band, bor, bxor, bnot = bit.band, bit.bor, bit.bxor, bit.bnot
local rshift, lshift, ror, tobit, tohex = bit.rshift, bit.lshift, bit.ror, bit.tobit, bit.tohex
local byte, char, rep, concat = string.byte, string.char, string.rep, table.concat

local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

local function sha256(msg)
  local len = #msg
  local pad = (64 - (len + 9) % 64) % 64
  local bits = len * 8
  msg = msg .. "\128" .. rep("\0", pad) .. "\0\0\0\0"
    .. char(band(rshift(bits, 24), 255), band(rshift(bits, 16), 255),
            band(rshift(bits, 8), 255), band(bits, 255))
  local H = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
              0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local w = {}
  for i = 1, #msg, 64 do
    for j = 1, 16 do
      local a, b, c, d = byte(msg, i + (j - 1) * 4, i + (j - 1) * 4 + 3)
      w[j] = bor(lshift(a, 24), lshift(b, 16), lshift(c, 8), d)
    end
    for j = 17, 64 do
      local v, u = w[j - 15], w[j - 2]
      local s0 = bxor(ror(v, 7), ror(v, 18), rshift(v, 3))
      local s1 = bxor(ror(u, 17), ror(u, 19), rshift(u, 10))
      w[j] = tobit(w[j - 16] + s0 + w[j - 7] + s1)
    end
    local a, b, c, d, e, f, g, h = H[1], H[2], H[3], H[4], H[5], H[6], H[7], H[8]
    for j = 1, 64 do
      local s1 = bxor(ror(e, 6), ror(e, 11), ror(e, 25))
      local ch = bxor(band(e, f), band(bnot(e), g))
      local t1 = tobit(h + s1 + ch + K[j] + w[j])
      local s0 = bxor(ror(a, 2), ror(a, 13), ror(a, 22))
      local maj = bxor(band(a, b), band(a, c), band(b, c))
      local t2 = tobit(s0 + maj)
      h, g, f, e, d, c, b, a = g, f, e, tobit(d + t1), c, b, a, tobit(t1 + t2)
    end
    H[1], H[2], H[3], H[4] = tobit(H[1] + a), tobit(H[2] + b), tobit(H[3] + c), tobit(H[4] + d)
    H[5], H[6], H[7], H[8] = tobit(H[5] + e), tobit(H[6] + f), tobit(H[7] + g), tobit(H[8] + h)
  end
  local out = {}
  for i = 1, 8 do
    local v = H[i]
    out[i] = char(band(rshift(v, 24), 255), band(rshift(v, 16), 255),
                  band(rshift(v, 8), 255), band(v, 255))
  end
  return concat(out)
end

local function hex(raw)
  local out = {}
  for i = 1, #raw do out[i] = tohex(byte(raw, i), 2) end
  return concat(out)
end

local function hmac_sha256(key, msg)
  if #key > 64 then key = sha256(key) end
  key = key .. rep("\0", 64 - #key)
  local ipad, opad = {}, {}
  for i = 1, 64 do
    local k = byte(key, i)
    ipad[i], opad[i] = char(bxor(k, 0x36)), char(bxor(k, 0x5c))
  end
  return sha256(concat(opad) .. sha256(concat(ipad) .. msg))
end

local thread_ids = 0
function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("tid", thread_ids)
end

local secret, per, run
local counter = 0

function init(args)
  secret, per, run = args[1], tonumber(args[2]), args[3]
  if hex(hmac_sha256(secret, args[4])) ~= args[5] then
    io.stderr:write("whatsapp_batch.lua: HMAC-SHA256 self-check failed\n")
    os.exit(2)
  end
end

local HEAD = '{"object":"whatsapp_business_account","entry":[{"id":"102290129340398",'
  .. '"changes":[{"field":"messages","value":{"messaging_product":"whatsapp",'
  .. '"metadata":{"display_phone_number":"621708","phone_number_id":"106540352242922"},'

function request()
  counter = counter + 1
  local now = tostring(os.time())
  local contacts, messages = {}, {}
  for i = 1, per do
    local n = ((tid * 1000003 + counter) * per + i) % 100000000
    local wa_id = string.format("62812%08d", n)
    local ident = string.format("wamid.%s.%d.%d.%d", run, tid, counter, i)
    contacts[i] = '{"profile":{"name":"Warga ' .. i .. '"},"wa_id":"' .. wa_id .. '"}'
    messages[i] = '{"from":"' .. wa_id .. '","id":"' .. ident .. '","timestamp":"' .. now
      .. '","type":"text","text":{"body":"Jalan rusak di RT ' .. (i % 50)
      .. ', lubang besar di depan pasar, mohon diperbaiki (' .. ident .. ')."}}'
  end
  local body = HEAD .. '"contacts":[' .. concat(contacts, ",") .. '],"messages":['
    .. concat(messages, ",") .. ']}}]}]}'
  local headers = {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature-256"] = "sha256=" .. hex(hmac_sha256(secret, body)),
  }
  return wrk.format("POST", nil, headers, body)
end
