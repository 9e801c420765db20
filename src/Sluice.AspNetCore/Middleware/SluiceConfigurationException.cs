namespace Sluice.AspNetCore;

/// <summary>The Sluice configuration is invalid. The message lists every problem, one per line.</summary>
public sealed class SluiceConfigurationException : InvalidOperationException
{
    /// <summary>Creates the exception from the list of problems.</summary>
    public SluiceConfigurationException(IReadOnlyList<string> problems)
        : base("The Sluice configuration is invalid:" + Environment.NewLine + string.Join(Environment.NewLine, problems.Select(p => " - " + p)))
    {
        Problems = problems;
    }

    /// <summary>Every problem found.</summary>
    public IReadOnlyList<string> Problems { get; }
}
