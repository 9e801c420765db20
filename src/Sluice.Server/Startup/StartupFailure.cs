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

    /// <summary>Set once the host has started; until then a failure to start reaches <see cref="OperatorMessage"/> or the runtime.</summary>
    public static bool HostStarted { get; private set; }

    /// <summary>
    /// Run as its own process, keeps the host's error log quiet until it has started: a failure to start is thrown from
    /// <c>RunAsync</c> and printed once, as its message (or, when it is not one the operator can fix, by the runtime with
    /// its stack trace), instead of also being logged with the stack trace first. After the start, every error is logged.
    /// </summary>
    public static void QuietHostErrorsUntilStarted(WebApplicationBuilder builder)
    {
        if (IsOwnProcess)
        {
            // A rule for the category takes the place of the configured levels for it: apply those too.
            const string category = "Microsoft.Extensions.Hosting.Internal.Host";
            var configuration = builder.Configuration;
            builder.Logging.AddFilter(category, level => (level < LogLevel.Error || HostStarted) && level >= ConfiguredLevel(configuration, category));
        }
    }

    /// <summary><c>Logging:LogLevel</c>'s level for <paramref name="category"/>: the longest key that is a prefix of it, else <c>Default</c>, else Information.</summary>
    private static LogLevel ConfiguredLevel(IConfiguration configuration, string category)
    {
        var (level, matched) = (LogLevel.Information, -1);
        foreach (var entry in configuration.GetSection("Logging:LogLevel").GetChildren())
        {
            var length = entry.Key.Equals("Default", StringComparison.OrdinalIgnoreCase) ? 0
                : category.StartsWith(entry.Key, StringComparison.OrdinalIgnoreCase) ? entry.Key.Length : -1;
            if (length > matched && Enum.TryParse<LogLevel>(entry.Value, ignoreCase: true, out var parsed))
            {
                (level, matched) = (parsed, length);
            }
        }

        return level;
    }

    /// <summary>Marks the host started when it is.</summary>
    public static void WatchForStart(WebApplication app) => app.Lifetime.ApplicationStarted.Register(() => HostStarted = true);

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
