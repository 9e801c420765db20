using System.Net;
using System.Net.Sockets;

namespace Sluice.Testing;

/// <summary>Free TCP ports on the loopback interface, for servers a test starts (redis-server, Kestrel).</summary>
public static class LoopbackPort
{
    /// <summary>A port that was free a moment ago: the OS picks it, and it is released at once for the caller to bind.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
