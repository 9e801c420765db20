-- Certificate issues, each to a new recipient (so each one charges the monthly quota and inserts a row): the
-- reference server's write path on its SQLite file. The key comes from the environment (SLUICE_KEY).
local key = os.getenv("SLUICE_KEY")
local counter = 0
local thread_id = 0
local threads = {}

function setup(thread)
  thread:set("id", thread_id)
  thread_id = thread_id + 1
end

function init(args)
  counter = 0
end

function request()
  counter = counter + 1
  local body = string.format('{"recipient_email":"r%d-%d@bench.test","recipient_name":"R","course":"C"}', id, counter)
  return wrk.format("POST", "/api/certificates", {
    ["Authorization"] = "Bearer " .. key,
    ["Content-Type"] = "application/json",
  }, body)
end
