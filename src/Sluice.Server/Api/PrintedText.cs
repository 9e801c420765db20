namespace Sluice.Server.Api;

/// <summary>The check of a text the server prints or lists (a name, a course): every API that takes one applies it.</summary>
internal static class PrintedText
{
    /// <summary>The most characters such a text may have: 200.</summary>
    public const int MaxLength = 200;

    /// <summary>What is wrong with <paramref name="value"/>: longer than <see cref="MaxLength"/>, or holding a control character (a line break, a NUL); null when nothing.</summary>
    public static (string Field, string Message)? Problem(string field, string value)
    {
        if (value.Length > MaxLength)
        {
            return (field, $"{field} is longer than {MaxLength} characters.");
        }

        return value.Any(char.IsControl) ? (field, $"{field} must not contain control characters (line breaks, tabs, NUL).") : null;
    }
}
