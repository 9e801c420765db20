-- Sluice: one decision over every layer and rate of one request, atomically, in one round trip.
-- The arithmetic mirrors src/Sluice/Algorithms (same formulas, same rounding); times are whole microseconds since the
-- Unix epoch, which Lua's doubles hold exactly. Integer division is math.floor(a / b): with a below 2^53 and b >= 1
-- the quotient of two exact integers never rounds across a whole number here.
--
-- KEYS[i]  the state of layer i for the request's key: a string per rate (fixed window; rate r > 0 in KEYS[i]#r,
--          an undeclared key, in KEYS[i]'s slot on a cluster since the prefix's hash tag decides the slot), a hash
--          (sliding, token bucket) or a sorted set of leases (concurrency).
-- ARGV     now (empty: the server's TIME), cost (or 'carry', below), lease member, TTL padding in milliseconds, then
--          per layer:
--          algorithm (1 fixed, 2 sliding, 3 token bucket, 4 concurrency), shadow (0/1), segments, rate count,
--          then per rate: limit, period in microseconds.
-- Returns  { allowed (0/1), now (the time decided at, in microseconds), then per rate: remaining, reset at, retry after (-1 never, -2 unknown), outcome
--          (0 allowed, 1 denied, 2 shadow denied) }.

local now = tonumber(ARGV[1])
if not now then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000000 + tonumber(time[2])
end
local cost = tonumber(ARGV[2])
local member = ARGV[3]
local padding = tonumber(ARGV[4])
local NEVER, UNKNOWN = -1, -2

local function floor_div(a, b) return math.floor(a / b) end

-- Redis writes a Lua number passed to a command with 14 significant digits: a microsecond timestamp has 16.
local function int(n) return string.format('%d', n) end

-- Each check returns: allowed, remaining after, reset after, retry after, remaining before, reset before, and a
-- function that charges the state and returns when it is empty again.

-- A fixed window keeps each rate in its own string key, "window:count": rate 0 in KEYS[i], rate r in KEYS[i]#r.
-- Each charge rewrites it with a TTL that covers the window, so no PTTL/PEXPIRE is needed.
local function fixed_key(key, r)
  if r == 0 then return key end
  return key .. '#' .. r
end

-- How many windows the current one is past the stored one, as the in-memory store computes it: the difference of the
-- two numbers' low 32 bits, read as a signed 32-bit number. Positive: the stored window has passed. 0 or -1 (a clock
-- stepped back across a boundary): it goes on. Further behind: the number comes from another period (a reload made
-- the period longer, or this instance decides with rates older than an override, which rewrites the state in its own
-- period first) or a long clock step, and the count starts again, as when the window has passed.
local function behind(window, stored)
  local d = (window - stored) % 4294967296
  if d >= 2147483648 then d = d - 4294967296 end
  return d
end

-- A fixed window's stored 'window:count' (nil: none) read in the current window: the count in force and the window
-- number to store with it (the stored one while it goes on with a count, else the current one).
local function fixed_state(value, window)
  if not value then return 0, window end
  local separator = string.find(value, ':', 1, true)
  local stored = tonumber(string.sub(value, 1, separator - 1))
  local d = behind(window, stored)
  if d ~= 0 and d ~= -1 then return 0, window end
  local count = tonumber(string.sub(value, separator + 1))
  if count > 0 then return count, stored end
  return count, window
end

local function fixed(stored_value, key, r, limit, period)
  local window = floor_div(now, period)
  local count, keep = fixed_state(stored_value, window)
  local window_end = (window + 1) * period
  local charge = function()
    local ttl = math.max(1, math.ceil((window_end - now) / 1000)) + padding
    redis.call('SET', fixed_key(key, r), int(keep) .. ':' .. int(count + cost), 'PX', int(ttl))
    return window_end
  end
  -- An override may have lowered the limit below what this window already counted: nothing is left, never less.
  local left = math.max(0, limit - count)
  if cost > limit then return false, left, window_end, NEVER, left, window_end, charge end
  if count + cost <= limit then
    return true, limit - count - cost, window_end, 0, left, window_end, charge
  end
  return false, left, window_end, window_end - now, left, window_end, charge
end

local function token_bucket(key, r, limit, period)
  local stored = tonumber(redis.call('HGET', key, 't' .. r)) or 0
  local interval = floor_div(period + limit - 1, limit)
  local capacity = limit * interval
  local tat = math.max(stored, now)
  local before = math.max(0, floor_div(capacity - (tat - now), interval))
  local new_tat = tat + cost * interval
  local charge = function()
    redis.call('HSET', key, 't' .. r, int(new_tat))
    return new_tat
  end
  if cost > limit then return false, before, tat, NEVER, before, tat, charge end
  if new_tat - now <= capacity then
    return true, floor_div(capacity - (new_tat - now), interval), new_tat, 0, before, tat, charge
  end
  return false, before, tat, new_tat - capacity - now, before, tat, charge
end

-- A sliding window's hash fields for rate r: their names (the newest segment written, then each ring position) and values.
local function sliding_read(key, r, segments)
  local names = { 'n' .. r }
  for position = 0, segments do names[#names + 1] = 's' .. r .. '_' .. position end
  return names, redis.call('HMGET', key, unpack(names))
end

-- A sliding window read at now with segment width `width`: the newest segment written, whether it was foreign, the
-- current segment, each segment's count, and the sum in force. A newest segment past the whole window ahead of now was
-- numbered under another width (a reload made the period longer, or rates older than an override) or before a long
-- clock step: the window starts again from the current segment.
local function sliding_state(fields, segments, width)
  local ring = segments + 1
  local now_segment = floor_div(now, width)
  local newest = tonumber(fields[1]) or 0
  local foreign = newest - now_segment > segments
  if foreign then newest = now_segment end
  local current = math.max(now_segment, newest)
  local function count(segment)
    if foreign then return 0 end
    return tonumber(fields[2 + (segment % ring)]) or 0
  end
  local sum = 0
  -- No segment before the epoch's was written (a period longer than the time since 1970 reaches below 0).
  for segment = math.max(current - segments, newest - segments, 0), newest do sum = sum + count(segment) end
  return newest, foreign, current, count, sum
end

local function sliding(key, r, limit, period, segments)
  local ring = segments + 1
  local _, fields = sliding_read(key, r, segments)
  local width = floor_div(period + segments - 1, segments)
  local newest, foreign, current, count, sum = sliding_state(fields, segments, width)
  local oldest = math.max(current - segments, 0)
  local drained = now
  if sum > 0 then drained = (newest + segments + 1) * width end
  local charge = function()
    local changes = {}
    if foreign then
      for position = 0, segments do
        changes[#changes + 1] = 's' .. r .. '_' .. position
        changes[#changes + 1] = 0
      end
      changes[#changes + 1] = 'n' .. r
      changes[#changes + 1] = int(current)
    end
    if current > newest then
      for segment = math.max(newest + 1, current - segments), current do
        changes[#changes + 1] = 's' .. r .. '_' .. (segment % ring)
        changes[#changes + 1] = 0
      end
      changes[#changes + 1] = 'n' .. r
      changes[#changes + 1] = int(current)
    end
    local own = 0
    if current <= newest then own = count(current) end
    changes[#changes + 1] = 's' .. r .. '_' .. (current % ring)
    changes[#changes + 1] = int(own + cost)
    redis.call('HSET', key, unpack(changes))
    return (current + segments + 1) * width
  end
  local before = math.max(0, limit - sum)
  if cost > limit then return false, before, drained, NEVER, before, drained, charge end
  if sum + cost <= limit then
    return true, limit - sum - cost, (current + segments + 1) * width, 0, before, drained, charge
  end
  local needed = sum + cost - limit
  local freed = 0
  local retry_at = (newest + segments + 1) * width
  for segment = oldest, newest do
    freed = freed + count(segment)
    if freed >= needed then
      retry_at = (segment + segments + 1) * width
      break
    end
  end
  return false, before, drained, retry_at - now, before, drained, charge
end

local function concurrency(key, limit, lifetime)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
  local in_flight = redis.call('ZCARD', key)
  local permits = 0
  if cost > 0 then permits = 1 end
  local charge = function()
    redis.call('ZADD', key, int(now + lifetime), member)
    return now + lifetime
  end
  local before = math.max(0, limit - in_flight)
  if in_flight + permits <= limit then
    return true, limit - in_flight - permits, now, 0, before, now, charge
  end
  return false, before, now, UNKNOWN, before, now, charge
end

-- ARGV[2] 'carry' instead of a cost: an override changes the periods of KEYS[1]'s rates; nothing is decided. ARGV[5]
-- algorithm (1 fixed, 2 sliding), ARGV[6] segments, then per rate: its index, the old period and the new one. Each
-- rate's usage in force under the old period moves into the new period's current window (a sliding window's sum into
-- its current segment), as Convert in src/Sluice/Algorithms does, and leaves with it.
if ARGV[2] == 'carry' then
  local key, is_fixed, segments, expires = KEYS[1], ARGV[5] == '1', tonumber(ARGV[6]), now
  for i = 7, #ARGV, 3 do
    local r, from, to = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    if is_fixed then
      local name = fixed_key(key, r)
      local value = redis.call('GET', name)
      local count = fixed_state(value, floor_div(now, from))
      if count > 0 then
        local window = floor_div(now, to)
        local ttl = math.max(1, math.ceil(((window + 1) * to - now) / 1000)) + padding
        redis.call('SET', name, int(window) .. ':' .. int(count), 'PX', int(ttl))
      elseif value then
        redis.call('DEL', name)
      end
    else
      local names, fields = sliding_read(key, r, segments)
      local _, _, _, _, sum = sliding_state(fields, segments, floor_div(from + segments - 1, segments))
      redis.call('HDEL', key, unpack(names))
      if sum > 0 then
        local width = floor_div(to + segments - 1, segments)
        local segment = floor_div(now, width)
        redis.call('HSET', key, 'n' .. r, int(segment), 's' .. r .. '_' .. (segment % (segments + 1)), int(sum))
        expires = math.max(expires, (segment + segments + 1) * width)
      end
    end
  end
  if not is_fixed and expires > now then
    local ttl = math.ceil((expires - now) / 1000) + padding
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
  end
  return 1
end

-- Every layer a one-rate fixed window (the common case): the same decision in straight-line code, reading every
-- state with one MGET and writing each charged one with one SET. No closures or tables per layer: Redis interprets
-- Lua, and that overhead, not the commands, is most of a script's cost. Window numbers and counts stay far below
-- 10^14, so Lua's own number formatting writes them exactly.
do
  local n = #KEYS
  local all_fixed = n > 0
  local at = 5
  for i = 1, n do
    if ARGV[at] ~= '1' or ARGV[at + 3] ~= '1' then
      all_fixed = false
      break
    end
    at = at + 6
  end
  if all_fixed then
    local values = redis.call('MGET', unpack(KEYS))
    local counts, keeps, ends, limits, shadows, oks = {}, {}, {}, {}, {}, {}
    local allowed = true
    at = 5
    for i = 1, n do
      local shadow = ARGV[at + 1] == '1'
      local limit = tonumber(ARGV[at + 4])
      local period = tonumber(ARGV[at + 5])
      at = at + 6
      local window = math.floor(now / period)
      local count, keep = fixed_state(values[i], window)
      local ok = cost <= limit and count + cost <= limit
      counts[i], keeps[i], ends[i], limits[i], shadows[i], oks[i] = count, keep, (window + 1) * period, limit, shadow, ok
      if not ok and not shadow then allowed = false end
    end
    local charged = allowed and cost > 0
    local reply = { allowed and 1 or 0, now }
    for i = 1, n do
      local count, window_end, limit, ok = counts[i], ends[i], limits[i], oks[i]
      local remaining = math.max(0, limit - count)
      local retry, outcome = 0, 0
      if ok and charged then
        remaining = limit - count - cost
        local ttl = math.ceil((window_end - now) / 1000)
        if ttl < 1 then ttl = 1 end
        redis.call('SET', KEYS[i], keeps[i] .. ':' .. (count + cost), 'PX', ttl + padding)
      elseif not ok then
        outcome = 1
        if shadows[i] then outcome = 2 end
        if cost > limit then retry = NEVER else retry = window_end - now end
      end
      reply[#reply + 1] = remaining
      reply[#reply + 1] = window_end
      reply[#reply + 1] = retry
      reply[#reply + 1] = outcome
    end
    return reply
  end
end

-- Phase 1: every rate of every layer decides; nothing changes.
local layers = {}
local allowed = true
local arg = 5
for i = 1, #KEYS do
  local key = KEYS[i]
  local algorithm = tonumber(ARGV[arg])
  local shadow = ARGV[arg + 1] == '1'
  local segments = tonumber(ARGV[arg + 2])
  local rate_count = tonumber(ARGV[arg + 3])
  arg = arg + 4
  local layer = { key = key, algorithm = algorithm, shadow = shadow, passed = true, rates = {} }
  for r = 0, rate_count - 1 do
    local limit, period = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1])
    arg = arg + 2
    local ok, remaining, reset, retry, remaining_before, reset_before, charge
    if algorithm == 1 then
      ok, remaining, reset, retry, remaining_before, reset_before, charge = fixed(redis.call('GET', fixed_key(key, r)), key, r, limit, period)
    elseif algorithm == 2 then
      ok, remaining, reset, retry, remaining_before, reset_before, charge = sliding(key, r, limit, period, segments)
    elseif algorithm == 3 then
      ok, remaining, reset, retry, remaining_before, reset_before, charge = token_bucket(key, r, limit, period)
    else
      ok, remaining, reset, retry, remaining_before, reset_before, charge = concurrency(key, limit, period)
    end
    layer.passed = layer.passed and ok
    layer.rates[#layer.rates + 1] = { ok = ok, remaining = remaining, reset = reset, retry = retry,
      remaining_before = remaining_before, reset_before = reset_before, charge = charge }
  end
  allowed = allowed and (layer.passed or shadow)
  layers[i] = layer
end

-- Phase 2: charge every layer that had room, but only if the request as a whole passed. Every key keeps a TTL
-- that covers its state, so Redis memory is bounded by the keys still inside a window.
local charged = allowed and cost > 0
for i = 1, #layers do
  local layer = layers[i]
  layer.charged = charged and layer.passed
  if layer.charged and layer.algorithm == 1 then
    for r = 1, #layer.rates do layer.rates[r].charge() end
  elseif layer.charged then
    local expires = now
    for r = 1, #layer.rates do expires = math.max(expires, layer.rates[r].charge()) end
    local ttl = math.max(1, math.ceil((expires - now) / 1000)) + padding
    local current_ttl = redis.call('PTTL', layer.key)
    if current_ttl < ttl then redis.call('PEXPIRE', layer.key, int(ttl)) end
  end
end

local reply = { allowed and 1 or 0, now }
for i = 1, #layers do
  local layer = layers[i]
  for r = 1, #layer.rates do
    local rate = layer.rates[r]
    local outcome = 0
    if not rate.ok then
      outcome = 1
      if layer.shadow then outcome = 2 end
    end
    if rate.ok and not layer.charged then
      reply[#reply + 1] = rate.remaining_before
      reply[#reply + 1] = rate.reset_before
    else
      reply[#reply + 1] = rate.remaining
      reply[#reply + 1] = rate.reset
    end
    reply[#reply + 1] = rate.retry
    reply[#reply + 1] = outcome
  end
end
return reply
