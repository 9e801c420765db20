-- Bulk RRset writes (PATCH of one TXT RRset) spread over DOMAINS domains d0.example … of one account, whose token
-- comes from SLUICE_KEY: the reference server's DNS write path on its SQLite file. Prints any answer but 200/204.
local key = os.getenv("SLUICE_KEY")
local domains = tonumber(os.getenv("DOMAINS"))
local counter = 0
local thread_id = 0
function setup(thread) thread:set("id", thread_id); thread_id = thread_id + 1 end
function request()
  counter = counter + 1
  local d = (counter + id * 7) % domains
  local body = string.format('[{"subname":"_acme-challenge.n%d","type":"TXT","ttl":3600,"records":["\\"v%d\\""]}]', counter % 10, counter)
  return wrk.format("PATCH", string.format("/api/v1/domains/d%d.example/rrsets/", d), {
    ["Authorization"] = "Token " .. key,
    ["Content-Type"] = "application/json",
  }, body)
end
function response(status, headers, body)
  if status ~= 200 and status ~= 204 then print(status, body) end
end
