using System.Globalization;

namespace Sluice.Server.Api;

/// <summary>
/// How an error message quotes what a client sent: as it is up to <see cref="MaxLength"/> characters, else its first
/// <see cref="MaxLength"/> and the length, so that an answer about a huge value stays small.
/// </summary>
internal static class Echo
{
    /// <summary>The most characters of a client's value an error message repeats: 64.</summary>
    public const int MaxLength = 64;

    public static string Of(string? value, int maxLength = MaxLength)
        => value is null || value.Length <= maxLength
            ? value ?? string.Empty
            : string.Concat(value.AsSpan(0, maxLength), string.Create(CultureInfo.InvariantCulture, $"… ({value.Length} characters)"));
}
