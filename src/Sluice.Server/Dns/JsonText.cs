using System.Text.Json;

namespace Sluice.Server.Dns;

/// <summary>Reads a JSON string that a client sent, which may escape a lone surrogate (<c>"\ud800"</c>): valid JSON, but no .NET string.</summary>
internal static class JsonText
{
    /// <summary>The string's text; false when the value is not a string or holds a lone surrogate, which deSEC answers as "Not a valid string.".</summary>
    public static bool TryRead(JsonElement value, out string text)
    {
        text = string.Empty;
        if (value.ValueKind != JsonValueKind.String)
        {
            return false;
        }

        try
        {
            text = value.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }
}
