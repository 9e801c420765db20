using System.Reflection;
using Microsoft.Extensions.Options;
using Sluice.AspNetCore;

namespace Sluice.Server.Startup;

/// <summary>
/// Tells a failure to start that the operator can fix (a configuration problem, a database the server cannot use, an
/// address another process listens on) from a defect, so that the first is reported as its message alone instead of an
/// unhandled exception's stack trace.
/// </summary>
internal static class StartupFailure
{
    /// <summary>Whether the server runs as its own process (<c>dotnet Sluice.Server.dll</c>, <c>dotnet run</c>), not hosted by another (a test host).</summary>
    public static bool IsOwnProcess => Assembly.GetEntryAssembly() == typeof(StartupFailure).Assembly;

    /// <summary>The message for the operator when <paramref name="error"/> is one they can fix; otherwise <see langword="null"/>.</summary>
    public static string? OperatorMessage(Exception error)
    {
        for (Exception? e = error; e is not null; e = e is AggregateException { InnerExceptions.Count: 1 } or TargetInvocationException ? e.InnerException : null)
        {
            switch (e)
            {
                case ServerStartupException or SluiceConfigurationException:
                    return e.Message;
                case OptionsValidationException options:
                    return "The server's configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, options.Failures.Select(f => "  - " + f));
                case IOException { InnerException: Microsoft.AspNetCore.Connections.AddressInUseException }:
                    // Kestrel's own words name the address; the setting that moves it is ours to name.
                    return $"{e.Message} Another process listens there: stop it, or choose another address with --urls (or ASPNETCORE_URLS).";
            }
        }

        return null;
    }
}
