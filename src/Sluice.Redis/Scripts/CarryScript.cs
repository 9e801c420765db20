namespace Sluice.Redis.Scripts;

/// <summary>
/// Run when an override changes the period of a key's fixed or sliding rates: rewrites each such rate's state in the
/// new period's terms, keeping the usage in force, with the arithmetic of <c>Convert</c> in <c>src/Sluice/Algorithms</c>.
/// Overrides are rare, so the script is sent as text.
/// </summary>
internal static class CarryScript
{
    /// <summary>
    /// KEYS[1] the layer's state key. ARGV: now (empty: the server's TIME), TTL padding in milliseconds, algorithm (1 fixed,
    /// 2 sliding), segments, then per rate: its index, the old period and the new one in microseconds.
    /// </summary>
    public const string Text = """
        local now = tonumber(ARGV[1])
        if not now then
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000000 + tonumber(time[2])
        end
        local padding = tonumber(ARGV[2])
        local fixed = ARGV[3] == '1'
        local segments = tonumber(ARGV[4])
        local key = KEYS[1]
        local function floor_div(a, b) return math.floor(a / b) end
        local function int(n) return string.format('%d', n) end
        local expires = now
        for i = 5, #ARGV, 3 do
          local r, from, to = tonumber(ARGV[i]), tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
          if fixed then
            local name = key
            if r > 0 then name = key .. '#' .. r end
            local value = redis.call('GET', name)
            local count = 0
            if value then
              local separator = string.find(value, ':', 1, true)
              local d = (floor_div(now, from) - tonumber(string.sub(value, 1, separator - 1))) % 4294967296
              if d >= 2147483648 then d = d - 4294967296 end
              if d == 0 or d == -1 then count = tonumber(string.sub(value, separator + 1)) end
            end
            if count > 0 then
              local window = floor_div(now, to)
              local ttl = math.max(1, math.ceil(((window + 1) * to - now) / 1000)) + padding
              redis.call('SET', name, int(window) .. ':' .. int(count), 'PX', int(ttl))
            elseif value then
              redis.call('DEL', name)
            end
          else
            local ring = segments + 1
            local names = { 'n' .. r }
            for position = 0, segments do names[#names + 1] = 's' .. r .. '_' .. position end
            local fields = redis.call('HMGET', key, unpack(names))
            local width = floor_div(from + segments - 1, segments)
            local newest = tonumber(fields[1]) or 0
            local sum = 0
            if newest - floor_div(now, width) <= segments then
              local current = math.max(floor_div(now, width), newest)
              for segment = math.max(current - segments, newest - segments), newest do
                sum = sum + (tonumber(fields[2 + (segment % ring)]) or 0)
              end
            end
            redis.call('HDEL', key, unpack(names))
            if sum > 0 then
              local to_width = floor_div(to + segments - 1, segments)
              local segment = floor_div(now, to_width)
              redis.call('HSET', key, 'n' .. r, int(segment), 's' .. r .. '_' .. (segment % ring), int(sum))
              expires = math.max(expires, (segment + segments + 1) * to_width)
            end
          end
        end
        if not fixed and expires > now then
          local ttl = math.ceil((expires - now) / 1000) + padding
          if redis.call('PTTL', key) < ttl then redis.call('PEXPIRE', key, int(ttl)) end
        end
        return 1
        """;
}
