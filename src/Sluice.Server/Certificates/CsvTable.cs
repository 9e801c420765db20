using System.Text;

namespace Sluice.Server.Certificates;

/// <summary>
/// A strict RFC 4180 reader: comma-separated fields, double quotes around fields that hold commas, quotes or line
/// breaks, <c>""</c> for a quote inside them, CRLF or LF between records. Rows are numbered as a spreadsheet shows them:
/// the header is row 1. Any deviation is reported with its row instead of being guessed at.
/// </summary>
internal static class CsvTable
{
    /// <summary>The records of <paramref name="text"/>, each with its row number; or the first error and its row.</summary>
    public static (List<(int Row, string[] Fields)> Records, (int Row, string Message)? Error) Parse(string text)
    {
        var records = new List<(int, string[])>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var row = 1;
        var i = 0;
        var atFieldStart = true;
        while (i <= text.Length)
        {
            if (i == text.Length || text[i] is '\n' or '\r')
            {
                fields.Add(field.ToString());
                field.Clear();
                if (!(fields.Count == 1 && fields[0].Length == 0))
                {
                    records.Add((row, fields.ToArray()));
                }
                else if (i < text.Length || records.Count == 0)
                {
                    // A blank line between records is not valid CSV; a trailing newline at the end is.
                    if (i < text.Length && HasMoreContent(text, i))
                    {
                        return (records, (row, "blank line"));
                    }
                }

                fields.Clear();
                if (i < text.Length && text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n')
                {
                    i++;
                }

                i++;
                row++;
                atFieldStart = true;
                continue;
            }

            var c = text[i];
            if (c == '"' && atFieldStart)
            {
                i++;
                while (true)
                {
                    if (i >= text.Length)
                    {
                        return (records, (row, "a quoted field is not closed"));
                    }

                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }

                        i++;
                        break;
                    }

                    field.Append(text[i++]);
                }

                if (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                {
                    return (records, (row, "characters follow a closing quote"));
                }

                atFieldStart = false;
                continue;
            }

            if (c == '"')
            {
                return (records, (row, "a quote inside an unquoted field"));
            }

            if (c == ',')
            {
                fields.Add(field.ToString());
                field.Clear();
                atFieldStart = true;
            }
            else
            {
                field.Append(c);
                atFieldStart = false;
            }

            i++;
        }

        return (records, null);
    }

    private static bool HasMoreContent(string text, int from)
    {
        for (var j = from; j < text.Length; j++)
        {
            if (text[j] is not ('\r' or '\n'))
            {
                return true;
            }
        }

        return false;
    }
}
