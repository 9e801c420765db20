-- Sluice: one decision over every layer and rate of one request, atomically, in one round trip.
-- The arithmetic mirrors src/Sluice/Algorithms (same formulas, same rounding); times are whole microseconds since the
-- Unix epoch, which Lua's doubles hold exactly. Integer division is math.floor(a / b): with a below 2^53 and b >= 1
-- the quotient of two exact integers never rounds across a whole number here.
--
-- KEYS[i]  the state of layer i for the request's key: a string per rate (fixed window; rate r > 0 in KEYS[i]#r,
--          an undeclared key, in KEYS[i]'s slot on a cluster since the prefix's hash tag decides the slot), a hash
--          (sliding: every rate's counted segments, see sliding_load; token bucket) or a sorted set of leases
--          (concurrency).
-- ARGV     now (empty: the server's TIME), cost (or 'carry', below), lease member, TTL padding in milliseconds, then
--          per layer:
--          algorithm (1 fixed, 2 sliding, 3 token bucket, 4 concurrency; 5 and 6: fixed and sliding with reload
--          hops, below), shadow (0/1), segments, rate count, [hops: their count H, the sending instance, then each
--          one's moment], then per rate: limit, period in microseconds, [the period before each hop, 0 where the rate
--          did not exist].
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
-- The instance that sent the script, set when reload hops are sent: it marks the states it converts (below).
local instance = nil
local NEVER, UNKNOWN = -1, -2

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

-- A fixed window's stored value: 'window:count', or 'window:count:mark' when written with reload hops. Returns the
-- window number, the count, the mark (nil: none) and the window number as stored (text, to write back unformatted).
local function fixed_parse(value)
  local stored, count, mark = string.match(value, '^(%d+):(%d+):?(.*)$')
  if mark == '' then mark = nil end
  return tonumber(stored), tonumber(count), mark, stored
end

-- The fast paths' read of a fixed window's value (nil: none) in the current window: the count in force, the window
-- number to write back (the stored text, unformatted, while the window goes on with a count) and whether the window
-- goes on, so that a charge keeps the key's TTL.
local function fixed_current(value, window)
  if not value then return 0, window, false end
  local stored, count, _, stored_text = fixed_parse(value)
  local d = behind(window, stored)
  if d ~= 0 and d ~= -1 then return 0, window, false end
  if count > 0 then return count, stored_text, true end
  return 0, window, true
end

-- The fast paths' write of a charged fixed window: a key whose window goes on keeps its TTL (KEEPTTL, Redis 6.0 and
-- later: the write that started the window set it, and setting it again costs Redis more than the rest of the write);
-- on an older Redis that write fails and is made again with PX, as is the first write of a window.
local function fixed_charge(name, written, going_on, window_end)
  if not going_on or redis.pcall('SET', name, written, 'KEEPTTL').err then
    local ttl = math.ceil((window_end - now) / 1000)
    if ttl < 1 then ttl = 1 end
    redis.call('SET', name, written, 'PX', ttl + padding)
  end
end

-- Every layer a one-rate fixed window (the most common request), decided before anything else is defined or even
-- scanned: Redis interprets Lua, and that overhead, not the commands, is most of a script's cost, so this path makes no
-- closures of its own and calls only the helpers above, which the early path below shares. That path decides these
-- requests too, but its generality (a scan that parses every rate count, a loop over rates, one table per layer) cost
-- this case about 2.5 us of 14-17 (docs/benchmarks.md), so it keeps its own loop. One MGET reads every state; each
-- charged key gets one SET (fixed_charge). Window numbers and counts stay far below 10^14, so Lua's own number
-- formatting writes them exactly.
if cost then
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
    local floor = math.floor
    local values = redis.call('MGET', unpack(KEYS))
    local state = {}
    local allowed = true
    at = 5
    for i = 1, n do
      local limit = tonumber(ARGV[at + 4])
      local period = tonumber(ARGV[at + 5])
      local window = floor(now / period)
      local count, keep, going_on = fixed_current(values[i], window)
      local ok = cost <= limit and count + cost <= limit
      local shadow = ARGV[at + 1] == '1'
      -- One table per key: count, window number to store, whether the window goes on, its end, passed, limit, shadow.
      state[i] = { count, keep, going_on, (window + 1) * period, ok, limit, shadow }
      if not ok and not shadow then allowed = false end
      at = at + 6
    end
    local charged = allowed and cost > 0
    local reply = { allowed and 1 or 0, now }
    local k = 2
    for i = 1, n do
      local s = state[i]
      local count, window_end, ok, limit = s[1], s[4], s[5], s[6]
      local remaining = limit - count
      if remaining < 0 then remaining = 0 end
      local retry, outcome = 0, 0
      if ok and charged then
        remaining = limit - count - cost
        fixed_charge(KEYS[i], s[2] .. ':' .. (count + cost), s[3], window_end)
      elseif not ok then
        outcome = 1
        if s[7] then outcome = 2 end
        if cost > limit then retry = NEVER else retry = window_end - now end
      end
      reply[k + 1], reply[k + 2], reply[k + 3], reply[k + 4] = remaining, window_end, retry, outcome
      k = k + 4
    end
    return reply
  end
end

-- Which path decides the other decisions (refunds and override carries come later): the early path below when every
-- layer is a fixed or sliding window without reload hops or a one-rate token bucket.
local fast, any_fixed, multi_fixed = false, false, false
local n = #KEYS
if cost then
  fast = n > 0
  local at = 5
  for i = 1, n do
    local algorithm, rate_count = ARGV[at], tonumber(ARGV[at + 3])
    if algorithm == '1' then
      any_fixed = true
      if rate_count > 1 then multi_fixed = true end
    elseif algorithm ~= '2' and (algorithm ~= '3' or rate_count ~= 1) then
      fast = false
      break
    end
    at = at + 4 + 2 * rate_count
  end
end

local sliding_load, sliding_sum, sliding_freed, bucket_check
-- A sliding window layer keeps every rate's state in its one hash. For rate r (0 to 7): 'n<r>' the newest segment
-- written, 'c<r>' the mark of the newest reload hop its state reflects, and '<r><segment>' the count of each segment
-- that has one, named by its number; a segment without a count has no field. Of those, the segments from the newest
-- one back to `segments` before it are the window (as the in-memory store's ring of segments + 1); older ones are
-- deleted when a charge moves the window past them. So a decision reads what was counted, not every segment of the
-- window: a layer of 1,000 segments that saw a few requests reads a few fields.
-- Segment numbers reach 16 digits (microseconds / width), so they are written with %d (Lua's own conversion keeps 14).
local NEWEST = { [0] = 'n0', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7' }
local MARK = { [0] = 'c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c7' }
local DIGIT = { [0] = '0', '1', '2', '3', '4', '5', '6', '7' }
do
  -- The layer's hash, read whole, as one table per rate 0 .. rate_count - 1: n (the newest segment's text, or nil),
  -- c (the mark, or nil), counts (segment number -> count), and segments and names (each count's segment number and
  -- field name, in the same order). Fields of a rate past rate_count are left out.
  sliding_load = function(key, rate_count)
    local raw = redis.call('HGETALL', key)
    local rates = {}
    for r = 0, rate_count - 1 do rates[r] = { counts = {}, segments = {}, names = {} } end
    local byte, sub = string.byte, string.sub
    for i = 1, #raw, 2 do
      local name = raw[i]
      local b = byte(name)
      if b < 58 then
        local rate = rates[b - 48]
        if rate then
          local segment = tonumber(sub(name, 2))
          rate.counts[segment] = tonumber(raw[i + 1])
          rate.segments[#rate.segments + 1] = segment
          rate.names[#rate.names + 1] = name
        end
      else
        local rate = rates[tonumber(sub(name, 2))]
        if rate then
          if b == 110 then rate.n = raw[i + 1] else rate.c = raw[i + 1] end
        end
      end
    end
    return rates
  end

  -- The sum of the counts of segments lo .. hi.
  sliding_sum = function(counts, lo, hi)
    local sum = 0
    for segment, count in pairs(counts) do
      if segment >= lo and segment <= hi then sum = sum + count end
    end
    return sum
  end

  -- The first segment from lo up to hi by whose end the counts from lo add up to `needed`, or nil.
  sliding_freed = function(counts, lo, hi, needed)
    local segments = {}
    for segment in pairs(counts) do
      if segment >= lo and segment <= hi then segments[#segments + 1] = segment end
    end
    table.sort(segments)
    local freed = 0
    for k = 1, #segments do
      freed = freed + counts[segments[k]]
      if freed >= needed then return segments[k] end
    end
    return nil
  end

  -- A token bucket's check (GCRA) against its stored theoretical arrival time (0: none): passed, remaining after the
  -- charge, reset after it, retry after, remaining and reset without it, and the state a charge stores.
  bucket_check = function(stored, limit, period)
    local floor = math.floor
    local interval = floor((period + limit - 1) / limit)
    local capacity = limit * interval
    local tat = math.max(stored, now)
    local before = math.max(0, floor((capacity - (tat - now)) / interval))
    local new_tat = tat + cost * interval
    if cost > limit then return false, before, tat, NEVER, before, tat, new_tat end
    if new_tat - now <= capacity then
      return true, floor((capacity - (new_tat - now)) / interval), new_tat, 0, before, tat, new_tat
    end
    return false, before, tat, new_tat - capacity - now, before, tat, new_tat
  end
end

-- Lua 5.1 passes at most about 8,000 values to one call (LUAI_MAXCSTACK: unpack fails with "too many results to
-- unpack"), and a sliding layer of 8 rates of 1,000 segments may delete or write 8,000 fields at once. Longer lists go
-- to Redis in chunks of CHUNK values (an even number, so that HSET's field-value pairs stay whole), within the same
-- script, so still atomically.
local CHUNK = 4000
local function call_chunked(command, key, values)
  local n = #values
  if n == 0 then return end
  if n <= CHUNK then
    redis.call(command, key, unpack(values))
    return
  end
  for from = 1, n, CHUNK do
    redis.call(command, key, unpack(values, from, math.min(from + CHUNK - 1, n)))
  end
end

-- Every layer a fixed or sliding window without reload hops, or a one-rate token bucket (the common cases), decided
-- before anything else is defined: Redis interprets Lua, and that overhead, not the commands, is most of a script's
-- cost, so this path makes no closures of its own and calls only the helpers above.
-- Fixed windows: one MGET reads every rate's state (a hash key reads as nil); fixed_current and fixed_charge as in the
-- path above.
-- Token buckets: bucket_check above, the state in the hash field 't0', whose theoretical arrival time (16 digits) is
-- formatted with %d; a charge extends the key's TTL only when it would end before the bucket is full again.
-- Sliding windows: the arithmetic of sliding below without hops; one HGETALL reads every rate's counts (see
-- sliding_load), and one HDEL and one HSET (each split in chunks past CHUNK values by call_chunked) write a charge.
if fast then
  local floor = math.floor
  local format = string.format
  local at
  -- Every fixed window's value, from one MGET: layer i's rate r at values[value_at[i] + r]. With one rate per
  -- layer the keys are KEYS themselves; a further rate r lives in KEYS[i]#r.
  local values, value_at
  if multi_fixed then
    local names = {}
    value_at = {}
    at = 5
    for i = 1, n do
      local rate_count = tonumber(ARGV[at + 3])
      value_at[i] = #names + 1
      names[#names + 1] = KEYS[i]
      if ARGV[at] == '1' then
        for r = 1, rate_count - 1 do names[#names + 1] = KEYS[i] .. '#' .. r end
      end
      at = at + 4 + 2 * rate_count
    end
    values = redis.call('MGET', unpack(names))
  elseif any_fixed then
    values = redis.call('MGET', unpack(KEYS))
  end
  -- One table per layer, its first two entries the algorithm and whether it passed, then what its reply and charge
  -- need: for a fixed window the count, the window number to store, whether the window goes on, its end, the limit;
  -- for a token bucket the tokens before, the state before and after, the interval, the capacity, the limit; for a
  -- sliding window its segments and one table per rate.
  local state = {}
  local allowed = true
  at = 5
  for i = 1, n do
    local algorithm = ARGV[at]
    local shadow = ARGV[at + 1] == '1'
    local ok
    if algorithm == '1' then
      -- From entry 3, six per rate: passed, the count, the window number to store, whether the window goes on,
      -- its end, the limit.
      local rate_count = tonumber(ARGV[at + 3])
      -- Made with one rate's entries in place, so that the common one-rate layer's table is never resized.
      local layer = { algorithm, true, true, 0, 0, false, 0, 0 }
      local first_value = value_at and value_at[i] or i
      at = at + 4
      for r = 0, rate_count - 1 do
        local limit, period = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
        at = at + 2
        local window = floor(now / period)
        local count, keep, going_on = fixed_current(values[first_value + r], window)
        local passed = cost <= limit and count + cost <= limit
        local base = 3 + 6 * r
        layer[base], layer[base + 1], layer[base + 2], layer[base + 3], layer[base + 4], layer[base + 5] =
          passed, count, keep, going_on, (window + 1) * period, limit
        if not passed then layer[2] = false end
      end
      ok = layer[2]
      state[i] = layer
    elseif algorithm == '3' then
      local stored = tonumber(redis.call('HGET', KEYS[i], 't0')) or 0
      local remaining, reset, retry, before, tat, new_tat
      ok, remaining, reset, retry, before, tat, new_tat = bucket_check(stored, tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5]))
      state[i] = { algorithm, ok, remaining, reset, retry, before, tat, new_tat }
      at = at + 6
    else
      -- Per rate: passed, remaining and reset if charged, retry after, remaining and reset if not, then what the
      -- charge needs: the rate's index, the newest segment, the current one, whether the ring is rewritten, and
      -- the current segment's count.
      local segments, rate_count = tonumber(ARGV[at + 2]), tonumber(ARGV[at + 3])
      at = at + 4
      local loaded = sliding_load(KEYS[i], rate_count)
      local rates = {}
      ok = true
      for r = 0, rate_count - 1 do
        local limit, period = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
        at = at + 2
        local stored = loaded[r]
        local width = floor((period + segments - 1) / segments)
        local now_segment = floor(now / width)
        local newest = tonumber(stored.n) or 0
        -- A newest segment past the whole window ahead of now was numbered under another width: start again.
        local foreign = newest - now_segment > segments
        if foreign then newest = now_segment end
        local current = newest
        if now_segment > current then current = now_segment end
        local sum, own = 0, 0
        if not foreign then
          local first = current - segments
          if newest - segments > first then first = newest - segments end
          if first < 0 then first = 0 end
          sum = sliding_sum(stored.counts, first, newest)
          if current <= newest then own = stored.counts[current] or 0 end
        end
        local drained = now
        if sum > 0 then drained = (newest + segments + 1) * width end
        local before = limit - sum
        if before < 0 then before = 0 end
        local passed = cost <= limit and sum + cost <= limit
        local retry = 0
        if cost > limit then
          retry = NEVER
        elseif not passed then
          local retry_at = (newest + segments + 1) * width
          local oldest = current - segments
          if oldest < 0 then oldest = 0 end
          if not foreign then
            local freed_by = sliding_freed(stored.counts, oldest, newest, sum + cost - limit)
            if freed_by then retry_at = (freed_by + segments + 1) * width end
          end
          retry = retry_at - now
        end
        rates[r + 1] = { passed, limit - sum - cost, (current + segments + 1) * width, retry, before, drained, r, newest, current, foreign, own, stored }
        ok = ok and passed
      end
      state[i] = { algorithm, ok, segments, rates }
    end
    if not ok and not shadow then allowed = false end
  end
  local charged = allowed and cost > 0
  local reply = { allowed and 1 or 0, now }
  local k = 2
  at = 5
  for i = 1, n do
    local s = state[i]
    local algorithm, ok = s[1], s[2]
    local shadow = ARGV[at + 1] == '1'
    local charge = ok and charged
    if algorithm == '1' then
      local rate_count = (#s - 2) / 6
      for r = 0, rate_count - 1 do
        local base = 3 + 6 * r
        local passed, count, window_end, limit = s[base], s[base + 1], s[base + 4], s[base + 5]
        local remaining, retry, rate_outcome = limit - count, 0, 0
        if remaining < 0 then remaining = 0 end
        if charge then
          remaining = limit - count - cost
          local name = KEYS[i]
          if r > 0 then name = name .. '#' .. r end
          fixed_charge(name, s[base + 2] .. ':' .. (count + cost), s[base + 3], window_end)
        elseif not passed then
          rate_outcome = 1
          if shadow then rate_outcome = 2 end
          if cost > limit then retry = NEVER else retry = window_end - now end
        end
        reply[k + 1], reply[k + 2], reply[k + 3], reply[k + 4] = remaining, window_end, retry, rate_outcome
        k = k + 4
      end
      at = at + 4 + 2 * rate_count
    elseif algorithm == '3' then
      local remaining, reset, outcome = s[6], s[7], 0
      if charge then
        local new_tat = s[8]
        remaining, reset = s[3], s[4]
        redis.call('HSET', KEYS[i], 't0', format('%d', new_tat))
        local ttl = math.ceil((new_tat - now) / 1000)
        if ttl < 1 then ttl = 1 end
        ttl = ttl + padding
        if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], format('%d', ttl)) end
      elseif not ok then
        outcome = 1
        if shadow then outcome = 2 end
      end
      reply[k + 1], reply[k + 2], reply[k + 3], reply[k + 4] = remaining, reset, s[5], outcome
      k = k + 4
      at = at + 6
    else
      local segments, rates = s[3], s[4]
      if charge then
        local deletes, changes = {}, {}
        local expires = now
        for r = 1, #rates do
          local rate = rates[r]
          local index, newest, current, stored = rate[7], rate[8], rate[9], rate[12]
          if rate[10] then
            -- Numbered under another width: every stored segment goes.
            for k = 1, #stored.names do deletes[#deletes + 1] = stored.names[k] end
            changes[#changes + 1] = NEWEST[index]
            changes[#changes + 1] = format('%d', newest)
          end
          if current > newest then
            -- The window moves on: segments before its first leave.
            local first = current - segments
            if not rate[10] then
              for k = 1, #stored.segments do
                if stored.segments[k] < first then deletes[#deletes + 1] = stored.names[k] end
              end
            end
            changes[#changes + 1] = NEWEST[index]
            changes[#changes + 1] = format('%d', current)
          end
          changes[#changes + 1] = DIGIT[index] .. format('%d', current)
          changes[#changes + 1] = format('%d', rate[11] + cost)
          if rate[3] > expires then expires = rate[3] end
        end
        call_chunked('HDEL', KEYS[i], deletes)
        call_chunked('HSET', KEYS[i], changes)
        local ttl = math.ceil((expires - now) / 1000)
        if ttl < 1 then ttl = 1 end
        ttl = ttl + padding
        if redis.call('PTTL', KEYS[i]) < ttl then redis.call('PEXPIRE', KEYS[i], format('%d', ttl)) end
      end
      for r = 1, #rates do
        local rate = rates[r]
        local rate_outcome = 0
        if not rate[1] then
          rate_outcome = 1
          if shadow then rate_outcome = 2 end
        end
        if rate[1] and charge then
          reply[k + 1], reply[k + 2] = rate[2], rate[3]
        else
          reply[k + 1], reply[k + 2] = rate[5], rate[6]
        end
        reply[k + 3], reply[k + 4] = rate[4], rate_outcome
        k = k + 4
      end
      at = at + 4 + 2 * #rates
    end
  end
  return reply
end

local function floor_div(a, b) return math.floor(a / b) end

-- Lua's own number-to-string conversion (concatenation, tostring) keeps 14 significant digits, and a microsecond
-- timestamp has 16: whole numbers that may be that large are formatted here. (Redis itself writes a number passed to a
-- command exactly.)
local function int(n) return string.format('%d', n) end

-- Each check returns: allowed, remaining after, reset after, retry after, remaining before, reset before, and a
-- function that charges the state and returns when it is empty again.

-- A fixed window keeps each rate in its own string key, "window:count": rate 0 in KEYS[i], rate r in KEYS[i]#r.
-- Each charge rewrites it with a TTL that covers the window, so no PTTL/PEXPIRE is needed.
local function fixed_key(key, r)
  if r == 0 then return key end
  return key .. '#' .. r
end


-- Reload hops (a layer sent as algorithm 5 or 6): `hops` are the moments at which this instance first decided with each
-- newer layer object that changed a period, oldest first, and `froms` the rate's period before each (0: no rate had
-- been at that position yet). A state not in the current period's terms is read through them as the in-memory store
-- rewrites its keys at each reload (Convert in src/Sluice/Algorithms): the usage in force under the old period at the
-- hop's moment moves into the new period's window of that moment, and counts while that window is open. The next hop
-- reads it from there.

-- The reload hops that convert a state reflecting those up to `absorbed`: the later ones that change the rate's period
-- from one period to another (one that keeps it leaves the state alone, as in memory), oldest first, each
-- { moment, old period, new period }. In `froms`, a period of 0 means no rate had been at that position yet.
local function hop_steps(period, hops, froms, absorbed)
  local steps = {}
  for k = 1, #hops do
    local to = period
    if k < #hops then to = froms[k + 1] end
    -- A rate a reload dropped is sent with its last period while it is absent (its state stays in those terms, as the
    -- in-memory store keeps its slots), so the hop that brings a rate back at that position converts it from there;
    -- 0 means no rate had been at that position yet, and such a hop leaves the state alone.
    if hops[k] > absorbed and froms[k] ~= to and froms[k] > 0 and to > 0 then steps[#steps + 1] = { hops[k], froms[k], to } end
  end
  return steps
end

-- The moment of the newest reload hop that changes this rate's period, or nil.
local function last_change(period, hops, froms)
  local steps = hop_steps(period, hops, froms, -1)
  if #steps == 0 then return nil end
  return steps[#steps][1]
end

-- A state written with reload hops carries a mark, 'instance/moment': the instance that wrote it and the moment of
-- the newest hop it reflects (hop moments are per instance and strictly increasing).
local function mark_text(moment) return instance .. '/' .. int(moment) end

-- The moment after which reload hops still have to convert a state with `mark` (nil: no mark), or nil when none do.
-- This instance's own mark says it exactly. A state without a mark was written before any hop (or by an instance
-- deciding without hops): every hop applies. Another instance's mark cannot be compared with this instance's moments:
-- that instance converted the state at its own reload, so it is read as it is while it reads as current (`current`),
-- and through every hop otherwise.
local function absorbed_of(mark, current)
  if not mark then return 0 end
  local slash = string.find(mark, '/', 1, true)
  if string.sub(mark, 1, slash - 1) == instance then return tonumber(string.sub(mark, slash + 1)) end
  if current then return nil end
  return 0
end

-- Where a stored state stands with the reload hops: the moment of the newest hop that changes the rate's period (nil:
-- none, nothing to mark), and the moment after which the hops must still convert the state (nil: it reflects them all,
-- or there is no state). `mark` is the state's mark, `current` whether it reads as current in this period's terms.
local function hops_pending(period, hops, froms, exists, mark, current)
  if not hops then return nil, nil end
  local newest = last_change(period, hops, froms)
  if not newest or not exists then return newest, nil end
  local absorbed = absorbed_of(mark, current)
  if absorbed and absorbed < newest then return newest, absorbed end
  return newest, nil
end


-- A fixed window's stored value (nil: none) read in the current window: the count in force, the window number to
-- store with it (the stored one while it goes on with a count, else the current one), whether the stored number is
-- of another period (or far from now), so that the count started again, and the value's mark.
local function fixed_state(value, window)
  if not value then return 0, window, false, nil end
  local stored, count, mark = fixed_parse(value)
  local d = behind(window, stored)
  if d ~= 0 and d ~= -1 then return 0, window, true, mark end
  if count > 0 then return count, stored, false, mark end
  return count, window, false, mark
end

-- A fixed window's value read through the reload hops after `absorbed` (the newest hop it already reflects) that
-- change the rate's period, as the in-memory store converts its keys at each: the value is in the terms of the first
-- such hop's old period, its count in force at that moment moves into the new period's window of that moment, and each
-- later hop moves it on while that window is still the current one. Returns the count carried into the current window
-- of `period`, or 0.
local function fixed_carried(value, period, hops, froms, absorbed)
  local stored, count = fixed_parse(value)
  local carried, carried_window = 0, nil
  for k, step in ipairs(hop_steps(period, hops, froms, absorbed)) do
    local at, from, to = step[1], step[2], step[3]
    local c = 0
    if from > 0 then
      local window = floor_div(at, from)
      if k == 1 then
        local d = behind(window, stored)
        if d == 0 or d == -1 then c = count end
      elseif carried_window == window then
        c = carried
      end
    end
    carried, carried_window = c, nil
    if to > 0 then carried_window = floor_div(at, to) end
  end
  if carried > 0 and carried_window == floor_div(now, period) then return carried end
  return 0
end

-- The value a fixed window stores: marked with `moment` only while reload hops are sent.
local function fixed_value(window, count, moment)
  if moment then return int(window) .. ':' .. int(count) .. ':' .. mark_text(moment) end
  return int(window) .. ':' .. int(count)
end

-- Writes a fixed window's value, kept until `ends` (and the padding).
local function fixed_set(name, window, count, moment, ends)
  local ttl = math.max(1, math.ceil((ends - now) / 1000)) + padding
  redis.call('SET', name, fixed_value(window, count, moment), 'PX', int(ttl))
end

local function fixed(stored_value, key, r, limit, period, hops, froms)
  local window = floor_div(now, period)
  local count, keep, foreign, stored_mark = fixed_state(stored_value, window)
  local window_end = (window + 1) * period
  local mark, absorbed = hops_pending(period, hops, froms, stored_value, stored_mark, not foreign)
  if absorbed then
    -- The value predates a reload: it is read through the hops and written converted now, charged or not, as the
    -- in-memory store rewrites a key at the reload, so that usage carried lasts as long as its new window, whatever
    -- the old key's TTL.
    count, keep = fixed_carried(stored_value, period, hops, froms, absorbed), window
    if count > 0 then
      fixed_set(fixed_key(key, r), window, count, mark, window_end)
    else
      redis.call('DEL', fixed_key(key, r))
    end
  end
  local charge = function()
    fixed_set(fixed_key(key, r), keep, count + cost, mark, window_end)
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

-- A token bucket's hash field for rate r: 't<r>' (a literal for the usual one-rate bucket: Lua builds and interns
-- every string it concatenates, which costs more than the command that reads the field).
local function bucket_field(r)
  if r == 0 then return 't0' end
  return 't' .. r
end

local function token_bucket(key, r, limit, period)
  local field = bucket_field(r)
  local ok, remaining, reset, retry, before, tat, new_tat = bucket_check(tonumber(redis.call('HGET', key, field)) or 0, limit, period)
  local charge = function()
    redis.call('HSET', key, field, int(new_tat))
    return new_tat
  end
  return ok, remaining, reset, retry, before, tat, charge
end


local function width_of(period, segments) return floor_div(period + segments - 1, segments) end

-- A sliding window's state (`stored`, one rate's table from sliding_load) read through the reload hops after
-- `absorbed` (the newest hop it already reflects) that change the rate's period, as the in-memory store converts its
-- keys at each (a hop that keeps the period leaves the state alone): the state is in the terms of the first such hop's
-- old period, its sum at that moment moves into the new period's segment of that moment, and each later hop moves what
-- is still in the window at its own moment. Returns the sum carried and the segment (of the current width) that holds
-- it; 0 when nothing is carried.
local function sliding_carried(stored, segments, period, hops, froms, absorbed)
  local newest = tonumber(stored.n) or 0
  local carried, carried_segment = 0, nil
  for k, step in ipairs(hop_steps(period, hops, froms, absorbed)) do
    local at, from, to = step[1], step[2], step[3]
    local c = 0
    if from > 0 then
      local at_segment = floor_div(at, width_of(from, segments))
      if k == 1 then
        if newest > 0 and newest - at_segment <= segments then
          local current = math.max(at_segment, newest)
          c = sliding_sum(stored.counts, math.max(current - segments, newest - segments, 0), newest)
        end
      elseif carried_segment and carried_segment >= at_segment - segments then
        c = carried
      end
    end
    carried, carried_segment = c, nil
    if to > 0 then carried_segment = floor_div(at, width_of(to, segments)) end
  end
  if carried > 0 then return carried, carried_segment end
  return 0, nil
end

-- A sliding window read at now with segment width `width`: the newest segment written, whether the state must be
-- rewritten before a charge (foreign), whether reload hops converted it, the current segment, the counts in force
-- (segment number -> count), their sum, the usage carried by the hops (0: none) and the moment of the newest hop that
-- changes the period (nil: none). A newest segment past the whole window ahead of now was numbered under another
-- width (a reload made the period longer, or rates older than an override) or before a long clock step: the window
-- starts again from the current segment. A state that reflects an older hop than the newest one is read through the
-- hops instead.
local function sliding_state(stored, segments, width, period, hops, froms)
  local now_segment = floor_div(now, width)
  local newest = tonumber(stored.n) or 0
  local carried, carried_segment = 0, nil
  local mark, absorbed = hops_pending(period, hops, froms, stored.n, stored.c,
    newest - now_segment <= segments and now_segment - newest <= segments)
  local converted = absorbed ~= nil
  if converted then
    carried, carried_segment = sliding_carried(stored, segments, period, hops, froms, absorbed)
    if carried > 0 and carried_segment < now_segment - segments then carried = 0 end
  end
  local foreign = not converted and newest - now_segment > segments
  if carried > 0 then
    newest = carried_segment
  elseif converted or foreign then
    newest = now_segment
  end
  local current = math.max(now_segment, newest)
  local counts = stored.counts
  if converted then
    counts = {}
    if carried > 0 then counts[carried_segment] = carried end
  elseif foreign then
    counts = {}
  end
  -- No segment before the epoch's was written (a period longer than the time since 1970 reaches below 0).
  local sum = sliding_sum(counts, math.max(current - segments, newest - segments, 0), newest)
  return newest, foreign, converted, current, counts, sum, carried, mark
end

-- Every field of one rate of a sliding layer (its counts, newest segment and mark), for a state rewritten whole.
local function sliding_fields(stored, r)
  local names = { NEWEST[r], MARK[r] }
  for k = 1, #stored.names do names[#names + 1] = stored.names[k] end
  return names
end

local function sliding(stored, key, r, limit, period, segments, hops, froms)
  local width = width_of(period, segments)
  local newest, rewrite, converted, current, counts, sum, carried, mark = sliding_state(stored, segments, width, period, hops, froms)
  local gone = stored.names
  if converted then
    if stored.n or carried > 0 then
      -- A state converted by reload hops is written in this width's terms now, charged or not, as the in-memory store
      -- rewrites a key at the reload: usage carried then lasts as long as its new segment, whatever the old key's TTL.
      call_chunked('HDEL', key, gone)
      gone = {}
      local changes = { NEWEST[r], int(newest), MARK[r], mark_text(mark) }
      if carried > 0 then
        changes[#changes + 1] = DIGIT[r] .. int(newest)
        changes[#changes + 1] = int(carried)
      end
      redis.call('HSET', key, unpack(changes))
      local ttl = math.max(1, math.ceil(((newest + segments + 1) * width - now) / 1000)) + padding
      if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
    else
      rewrite = true
    end
  end
  local oldest = math.max(current - segments, 0)
  local drained = now
  if sum > 0 then drained = (newest + segments + 1) * width end
  local charge = function()
    local deletes, changes = {}, {}
    if rewrite then
      deletes = gone
      changes[#changes + 1] = NEWEST[r]
      changes[#changes + 1] = int(newest)
    end
    if current > newest then
      if not rewrite then
        for k = 1, #gone do
          if stored.segments[k] < current - segments then deletes[#deletes + 1] = gone[k] end
        end
      end
      changes[#changes + 1] = NEWEST[r]
      changes[#changes + 1] = int(current)
    end
    if mark then
      changes[#changes + 1] = MARK[r]
      changes[#changes + 1] = mark_text(mark)
    end
    local own = 0
    if current <= newest then own = counts[current] or 0 end
    changes[#changes + 1] = DIGIT[r] .. int(current)
    changes[#changes + 1] = int(own + cost)
    call_chunked('HDEL', key, deletes)
    call_chunked('HSET', key, changes)
    return (current + segments + 1) * width
  end
  local before = math.max(0, limit - sum)
  if cost > limit then return false, before, drained, NEVER, before, drained, charge end
  if sum + cost <= limit then
    return true, limit - sum - cost, (current + segments + 1) * width, 0, before, drained, charge
  end
  local retry_at = (newest + segments + 1) * width
  local freed_by = sliding_freed(counts, oldest, newest, sum + cost - limit)
  if freed_by then retry_at = (freed_by + segments + 1) * width end
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

-- ARGV[2] 'carry' instead of a cost: an override changes the rates of KEYS[1]; nothing is decided. ARGV[5] algorithm
-- (1 fixed, 2 sliding), ARGV[6] segments, ARGV[7] the count H of reload hops that lead to the old rates (when they are
-- the layer's), ARGV[8] the mark's moment, then each hop's moment, then per rate: its index, the old period, the new one and the period before
-- each hop. Each rate's usage in force under the old period (read through the hops) moves into the new period's
-- current window (a sliding window's sum into its current segment), as Convert in src/Sluice/Algorithms does, and
-- leaves with it; with the same period, a state the hops convert is written converted. An old period of 0 settles a
-- rate whose state the in-memory store left alone under an override (see CarryUsageAsync).
if ARGV[2] == 'carry' then
  local key, is_fixed, segments, expires = KEYS[1], ARGV[5] == '1', tonumber(ARGV[6]), now
  -- ARGV[3]: this instance; ARGV[8]: the moment every state written here is marked with (see MarkFor in
  -- src/Sluice.Redis/Reloads).
  instance = ARGV[3]
  local written = tonumber(ARGV[8])
  local hop_count = tonumber(ARGV[7])
  local hops = nil
  if hop_count > 0 then
    hops = {}
    for k = 1, hop_count do hops[k] = tonumber(ARGV[8 + k]) end
  end
  -- Every rate's state of a sliding layer, read once (rates 0 to 7: the most a layer has).
  local loaded = nil
  if not is_fixed then loaded = sliding_load(key, 8) end
  for i = 9 + hop_count, #ARGV, 3 + hop_count do
    local r, from, to = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
    local froms = nil
    if hops then
      froms = {}
      for k = 1, hop_count do froms[k] = tonumber(ARGV[i + 2 + k]) end
    end
    if is_fixed then
      local name = fixed_key(key, r)
      local value = redis.call('GET', name)
      if from == 0 then
        -- Settled: marked as reflecting every reload hop so far, so that no hop of a reload that happened under the
        -- override reads it. Its window number and count stay as they are, as the in-memory store leaves the slot of a
        -- rate the override hid: a count not in force under `to` reads as none, and counts again if a later period
        -- brings its window back (a reload to the old period while another override hides the rate).
        if value then
          local stored, count = fixed_parse(value)
          local ttl = redis.call('PTTL', name)
          if ttl > 0 then
            redis.call('SET', name, fixed_value(stored, count, written), 'PX', ttl)
          else
            redis.call('DEL', name)
          end
        end
      else
        local count, _, foreign, stored_mark = fixed_state(value, floor_div(now, from))
        local _, absorbed = hops_pending(from, hops, froms, value, stored_mark, not foreign)
        if absorbed then count = fixed_carried(value, from, hops, froms, absorbed) end
        if from ~= to or absorbed then
          if count > 0 then
            -- Converted now: the value reflects every reload hop up to this moment.
            local window = floor_div(now, to)
            fixed_set(name, window, count, written, (window + 1) * to)
          elseif value then
            redis.call('DEL', name)
          end
        end
      end
    else
      local stored = loaded[r]
      if from == 0 then
        -- Settled: the state is read as it is from now on, never through an earlier reload hop.
        if stored.n then redis.call('HSET', key, MARK[r], mark_text(written)) end
      else
        local newest, _, converted, _, _, sum, carried = sliding_state(stored, segments, width_of(from, segments), from, hops, froms)
        if from ~= to then
          call_chunked('HDEL', key, sliding_fields(stored, r))
          if sum > 0 then
            -- Converted now: the state reflects every reload hop up to this moment.
            local width = width_of(to, segments)
            local segment = floor_div(now, width)
            redis.call('HSET', key, NEWEST[r], int(segment), DIGIT[r] .. int(segment), int(sum), MARK[r], mark_text(written))
            expires = math.max(expires, (segment + segments + 1) * width)
          end
        elseif converted then
          call_chunked('HDEL', key, sliding_fields(stored, r))
          if carried > 0 then
            local width = width_of(from, segments)
            redis.call('HSET', key, NEWEST[r], int(newest), DIGIT[r] .. int(newest), int(carried), MARK[r], mark_text(written))
            expires = math.max(expires, (newest + segments + 1) * width)
          end
        end
      end
    end
  end
  if not is_fixed and expires > now then
    local ttl = math.ceil((expires - now) / 1000) + padding
    if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
  end
  return 1
end

-- ARGV[2] 'refund': a decision that admitted a request (ARGV[1]: the time it decided at) whose answer nobody read, and
-- whose request was not admitted after all, gives back what it charged each KEYS[i]. ARGV[3] the lease member,
-- ARGV[4] the cost, then per key: algorithm, segments, rate count, then per rate: limit, period. A count another window
-- holds by now is left alone; nothing goes below zero.
if ARGV[2] == 'refund' then
  local member, refund, at = ARGV[3], tonumber(ARGV[4]), 5
  for i = 1, #KEYS do
    local key, algorithm, segments, rate_count = KEYS[i], tonumber(ARGV[at]), tonumber(ARGV[at + 1]), tonumber(ARGV[at + 2])
    at = at + 3
    if algorithm == 4 then redis.call('ZREM', key, member) end
    for r = 0, rate_count - 1 do
      local limit, period = tonumber(ARGV[at]), tonumber(ARGV[at + 1])
      at = at + 2
      if algorithm == 1 then
        local name = fixed_key(key, r)
        local value = redis.call('GET', name)
        local ttl = redis.call('PTTL', name)
        if value and ttl > 0 then
          local stored, count, mark = fixed_parse(value)
          local d = behind(floor_div(now, period), stored)
          if d == 0 or d == -1 then
            local left = int(stored) .. ':' .. int(math.max(0, count - refund))
            if mark then left = left .. ':' .. mark end
            redis.call('SET', name, left, 'PX', ttl)
          end
        end
      elseif algorithm == 2 then
        local segment = floor_div(now, width_of(period, segments))
        local field = DIGIT[r] .. int(segment)
        local fields = redis.call('HMGET', key, NEWEST[r], field)
        local newest = tonumber(fields[1])
        if newest and segment <= newest and newest - segment <= segments then
          local left = math.max(0, (tonumber(fields[2]) or 0) - refund)
          if left > 0 then redis.call('HSET', key, field, int(left)) else redis.call('HDEL', key, field) end
        end
      else
        local tat = tonumber(redis.call('HGET', key, bucket_field(r)))
        if tat then
          local interval = floor_div(period + limit - 1, limit)
          redis.call('HSET', key, bucket_field(r), int(math.max(0, tat - refund * interval)))
        end
      end
    end
  end
  return 1
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
  local hops = nil
  if algorithm == 5 or algorithm == 6 then
    algorithm = algorithm - 4
    hops = {}
    local hop_count = tonumber(ARGV[arg])
    instance = ARGV[arg + 1]
    for k = 1, hop_count do hops[k] = tonumber(ARGV[arg + 1 + k]) end
    arg = arg + 2 + hop_count
  end
  local layer = { key = key, algorithm = algorithm, shadow = shadow, passed = true, rates = {} }
  local loaded = nil
  if algorithm == 2 then loaded = sliding_load(key, rate_count) end
  for r = 0, rate_count - 1 do
    local limit, period = tonumber(ARGV[arg]), tonumber(ARGV[arg + 1])
    arg = arg + 2
    local froms = nil
    if hops then
      froms = {}
      for k = 1, #hops do froms[k] = tonumber(ARGV[arg + k - 1]) end
      arg = arg + #hops
    end
    local ok, remaining, reset, retry, remaining_before, reset_before, charge
    if algorithm == 1 then
      ok, remaining, reset, retry, remaining_before, reset_before, charge = fixed(redis.call('GET', fixed_key(key, r)), key, r, limit, period, hops, froms)
    elseif algorithm == 2 then
      ok, remaining, reset, retry, remaining_before, reset_before, charge = sliding(loaded[r], key, r, limit, period, segments, hops, froms)
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
