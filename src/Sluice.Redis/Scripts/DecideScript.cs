using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace Sluice.Redis.Scripts;

/// <summary>
/// The decision script: sent once with SCRIPT LOAD, then run by its SHA1 (EVALSHA, one round trip per decision). A
/// Redis restart flushes the script cache; the NOSCRIPT answer loads it again and the decision is retried once.
/// </summary>
internal static class DecideScript
{
    public static readonly string Text = Load();

    public static readonly byte[] Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(Text));

    /// <summary>After a <c>NOSCRIPT</c> answer: loads the script on every connected server, then runs it once more.</summary>
    public static async Task<RedisResult> ReloadAndEvaluateAsync(IDatabase database, RedisKey[] keys, RedisValue[] values)
    {
        await LoadAsync(database.Multiplexer).ConfigureAwait(false);
        return await database.ScriptEvaluateAsync(Sha1, keys, values).ConfigureAwait(false);
    }

    /// <summary>Whether Redis answered that it does not have the script (a restart or <c>SCRIPT FLUSH</c> removed it).</summary>
    public static bool IsNoScript(RedisServerException e) => e.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal);

    public static async Task LoadAsync(ConnectionMultiplexer connection)
    {
        foreach (var endpoint in connection.GetEndPoints())
        {
            var server = connection.GetServer(endpoint);
            if (server.IsConnected)
            {
                await server.ScriptLoadAsync(Text).ConfigureAwait(false);
            }
        }
    }

    private static string Load()
    {
        using var stream = typeof(DecideScript).Assembly.GetManifestResourceStream("Sluice.Redis.decide.lua")
            ?? throw new InvalidOperationException("The decision script is missing from the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
