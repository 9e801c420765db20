using System.Text;
using Microsoft.Net.Http.Headers;

namespace Sluice.Server.Certificates;

/// <summary>
/// The text of a bulk upload: in the charset its <c>Content-Type</c> names (UTF-8 when it names none, or UTF-16 when
/// the body starts with its byte order mark; Windows code pages such as <c>windows-1252</c>, which spreadsheet programs
/// write, included), read strictly: bytes that are not text in that charset are refused with their row, never replaced
/// by U+FFFD and stored.
/// </summary>
internal static class CsvBody
{
    static CsvBody() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>The charset named by <paramref name="contentType"/> (UTF-8 when none), or null with its name when .NET has no such charset.</summary>
    public static Encoding? EncodingOf(string contentType, out string charset)
    {
        charset = MediaTypeHeaderValue.TryParse(contentType, out var media) && media.Charset.HasValue && media.Charset.Length > 0
            ? media.Charset.Value!.Trim('"')
            : "utf-8";
        try
        {
            return Encoding.GetEncoding(charset, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    /// <summary>
    /// The body as text without a byte order mark; or null, with the row (1-based) of the first bytes that are not text
    /// in the charset read (<paramref name="read"/>: <paramref name="encoding"/>, or UTF-16 after its byte order mark).
    /// </summary>
    public static string? Decode(ReadOnlySpan<byte> body, Encoding encoding, out string read, out int badRow)
    {
        badRow = 0;
        if (encoding is UTF8Encoding && body.Length >= 2 && (body[0], body[1]) is (0xFF, 0xFE) or (0xFE, 0xFF))
        {
            // A UTF-16 byte order mark (a spreadsheet's "Unicode text"): the bytes say what they are.
            encoding = Encoding.GetEncoding(body[0] == 0xFF ? "utf-16LE" : "utf-16BE", EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback);
        }

        read = encoding.WebName;
        try
        {
            return encoding.GetString(body).TrimStart('\uFEFF');
        }
        catch (DecoderFallbackException e)
        {
            badRow = RowAt(body, Math.Clamp(e.Index, 0, body.Length));
            return null;
        }
    }

    private static int RowAt(ReadOnlySpan<byte> body, int offset) => body[..offset].Count((byte)'\n') + 1;
}
