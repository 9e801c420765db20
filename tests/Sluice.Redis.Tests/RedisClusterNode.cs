using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Sluice.Redis.Tests;

/// <summary>
/// A real redis-server in cluster mode that serves every hash slot itself: a one-node Redis Cluster. Redis refuses a
/// command or script whose keys lie in different slots whatever the number of nodes, so this is where a store meets
/// the rules of a cluster.
/// </summary>
public sealed class RedisClusterNode : RedisServer
{
    protected override IEnumerable<string> ExtraArguments => ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];

    protected override async Task OnListeningAsync(NetworkStream connection)
    {
        // After a restart nodes.conf already holds the slots; adding them again is answered with an error, not a change.
        await CommandAsync(connection, "CLUSTER ADDSLOTSRANGE 0 16383");
        var waited = Stopwatch.StartNew();
        while (!(await CommandAsync(connection, "CLUSTER INFO")).Contains("cluster_state:ok", StringComparison.Ordinal))
        {
            if (waited.Elapsed > TimeSpan.FromSeconds(10))
            {
                throw new InvalidOperationException("The one-node Redis Cluster did not reach cluster_state:ok within 10 seconds.");
            }

            await Task.Delay(20);
        }
    }

    private static async Task<string> CommandAsync(NetworkStream connection, string inline)
    {
        await connection.WriteAsync(Encoding.ASCII.GetBytes(inline + "\r\n"));
        var buffer = new byte[8192];
        var read = await connection.ReadAsync(buffer);
        return Encoding.ASCII.GetString(buffer, 0, read);
    }
}
