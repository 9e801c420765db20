using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Sluice.Redis.Overrides;

/// <summary>
/// This instance's copy of the overrides kept in Redis. One timer (not one per key) checks a version counter every
/// refresh interval and re-reads the hash when it changed; changes made through this instance apply at once.
/// </summary>
internal sealed class OverrideCache : IDisposable
{
    private readonly Func<Task<IDatabase>> _database;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private readonly RedisKey _hash;
    private readonly RedisKey _version;
    private readonly ITimer _timer;
    private ConcurrentDictionary<(string Layer, string Key), Rate[]> _overrides = new();
    private long _seenVersion = -1;

    public OverrideCache(Func<Task<IDatabase>> database, string prefix, TimeSpan interval, TimeProvider time)
    {
        _database = database;
        _hash = prefix + "overrides";
        _version = prefix + "overrides:version";
        _timer = time.CreateTimer(_ => _ = RefreshAsync(skipIfBusy: true), null, TimeSpan.Zero, interval);
    }

    public bool IsEmpty => _overrides.IsEmpty;

    public bool TryGet(string layer, string key, out Rate[] rates) => _overrides.TryGetValue((layer, key), out rates!);

    public Task SetAsync(string layer, string key, IReadOnlyList<Rate> rates) => ChangeAsync(async database =>
    {
        await database.HashSetAsync(_hash, OverrideCodec.Field(layer, key), OverrideCodec.Encode(rates)).ConfigureAwait(false);
        _overrides[(layer, key)] = [.. rates];
        return true;
    });

    public Task<bool> RemoveAsync(string layer, string key) => ChangeAsync(async database =>
    {
        var removed = await database.HashDeleteAsync(_hash, OverrideCodec.Field(layer, key)).ConfigureAwait(false);
        _overrides.TryRemove((layer, key), out _);
        return removed;
    });

    public async Task<Rate[]?> ReadAsync(string layer, string key)
        => OverrideCodec.Decode(await (await _database().ConfigureAwait(false)).HashGetAsync(_hash, OverrideCodec.Field(layer, key)).ConfigureAwait(false));

    /// <summary>
    /// Re-reads the overrides if another instance changed them. Errors are left to the next tick. The timer skips a
    /// tick while a refresh runs; an explicit refresh waits for it and then reads again.
    /// </summary>
    public async Task RefreshAsync(bool skipIfBusy = false)
    {
        if (!await _refresh.WaitAsync(skipIfBusy ? 0 : Timeout.Infinite).ConfigureAwait(false))
        {
            return;
        }

        try
        {
            var database = await _database().ConfigureAwait(false);
            var version = (long?)await database.StringGetAsync(_version).ConfigureAwait(false) ?? 0;
            if (version == Interlocked.Read(ref _seenVersion))
            {
                return;
            }

            var fresh = new ConcurrentDictionary<(string Layer, string Key), Rate[]>();
            foreach (var entry in await database.HashGetAllAsync(_hash).ConfigureAwait(false))
            {
                if (OverrideCodec.SplitField(entry.Name!) is { } field && OverrideCodec.Decode(entry.Value) is { } rates)
                {
                    fresh[field] = rates;
                }
            }

            _overrides = fresh;
            Interlocked.Exchange(ref _seenVersion, version);
        }
        catch (Exception e) when (e is RedisException or TimeoutException or ObjectDisposedException)
        {
            // Redis is down: keep the overrides known so far, try again at the next tick.
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>
    /// Writes one change to Redis and to this copy, never while a refresh runs: a refresh that read the hash just before
    /// the change would otherwise put the old rates back in this copy until the next one. When no other instance changed
    /// anything since this copy was read, the new version is marked seen, so the next tick does not read it all again.
    /// </summary>
    private async Task<T> ChangeAsync<T>(Func<IDatabase, Task<T>> change)
    {
        await _refresh.WaitAsync().ConfigureAwait(false);
        try
        {
            var database = await _database().ConfigureAwait(false);
            var result = await change(database).ConfigureAwait(false);
            var version = await database.StringIncrementAsync(_version).ConfigureAwait(false);
            if (version == Interlocked.Read(ref _seenVersion) + 1)
            {
                Interlocked.Exchange(ref _seenVersion, version);
            }

            return result;
        }
        finally
        {
            _refresh.Release();
        }
    }
}
