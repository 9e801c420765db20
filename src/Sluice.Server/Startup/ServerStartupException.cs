namespace Sluice.Server.Startup;

/// <summary>
/// The server cannot start as configured: its message, written for the operator, says why (every configuration problem,
/// or the database it cannot use). Run as its own process, the server prints the message alone to standard error and
/// exits with code 1; hosted by another process (a test host), it throws.
/// </summary>
internal sealed class ServerStartupException(string message, Exception? innerException = null)
    : InvalidOperationException(message, innerException);
