-- wrk script: one web-form complaint per request, each with a new external id (as
-- bench/intake.py sends them). Used by bench/whatsapp_batch.py:
--   wrk ... -s bench/wrk/webform.lua URL -- RUN

local thread_ids = 0
function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("tid", thread_ids)
end

local run
local counter = 0

function init(args)
  run = args[1]
end

function request()
  counter = counter + 1
  local ident = string.format("%s-%d-%d", run, tid, counter)
  local body = '{"body":"Jalan rusak di RT ' .. (counter % 50)
    .. ', mohon diperbaiki (' .. ident .. ').","name":"Warga","phone":"081234567890",'
    .. '"external_id":"' .. ident .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
