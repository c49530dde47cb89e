-- wrk script: web-form complaints whose bodies come from a file (one JSON string per line,
-- written by bench/learn.py from the synthetic dispatch history), each request with a new
-- external id; every wrk thread starts at another line. Used by bench/learn.py --wrk:
--   wrk ... -s bench/wrk/complaints.lua URL -- BODIES_FILE RUN

local thread_ids = 0
function setup(thread)
  thread_ids = thread_ids + 1
  thread:set("tid", thread_ids)
end

local bodies = {}
local run
local counter = 0

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
  run = args[2]
  counter = (tid - 1) * 997
end

function request()
  counter = counter + 1
  local ident = string.format("%s-%d-%d", run, tid, counter)
  local body = '{"body":' .. bodies[(counter % #bodies) + 1]
    .. ',"name":"Warga","phone":"081234567890","external_id":"' .. ident .. '"}'
  return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
end
