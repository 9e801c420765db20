using System.Text.Json;
using Sluice.Server.Api;

namespace Sluice.Server.Dns;

/// <summary>
/// One RRset of a write request, read from JSON so that an absent field (keep it, in PATCH) differs from an empty one.
/// Subnames and types are normalised (lower and upper case); the apex is the empty subname (<c>@</c> is accepted for it),
/// and an item without a subname is at the apex, as deSEC documents.
/// </summary>
internal sealed record RRsetItem(string Subname, string Type, int? Ttl, IReadOnlyList<string>? Records)
{
    /// <summary>Parses and validates one item; errors are keyed by field, in deSEC's shape (<c>{"ttl": ["..."]}</c>).</summary>
    public static (RRsetItem? Item, Dictionary<string, List<string>> Errors) Parse(JsonElement json, DnsOptions options, DnsWriteMode mode, string? subname = null, string? type = null)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        if (json.ValueKind != JsonValueKind.Object)
        {
            Add(errors, "non_field_errors", $"Invalid data. Expected a dictionary, but got {json.ValueKind.ToString().ToLowerInvariant()}.");
            return (null, errors);
        }

        // deSEC: "In all cases, the subname field is optional. If missing, the empty subname is assumed."
        subname ??= json.TryGetProperty("subname", out _) ? ReadString(json, "subname", errors, required: true) : string.Empty;
        type ??= ReadString(json, "type", errors, required: true);
        var ttl = ReadTtl(json, options, errors);
        var records = ReadRecords(json, errors);
        if (subname is not null)
        {
            subname = subname == "@" ? string.Empty : subname.ToLowerInvariant();
            if (!DnsNames.IsSubname(subname))
            {
                Add(errors, "subname", $"'{Echo.Of(subname)}' is not a valid subname: use dot-separated labels of letters, digits, hyphens and underscores.");
            }
        }

        if (type is not null)
        {
            type = type.ToUpperInvariant();
            if (!RecordSyntax.IsSupported(type))
            {
                Add(errors, "type", $"The {type} RRset type is not supported; use one of {RecordSyntax.SupportedList}.");
            }
        }

        var deleting = records is { Count: 0 };
        if (mode != DnsWriteMode.Patch && !deleting && ttl is null && !errors.ContainsKey("ttl"))
        {
            Add(errors, "ttl", "This field is required.");
        }

        if (mode != DnsWriteMode.Patch && records is null && !errors.ContainsKey("records"))
        {
            Add(errors, "records", "This field is required.");
        }

        if (mode == DnsWriteMode.Create && deleting)
        {
            Add(errors, "records", "This field must not be empty when creating an RRset.");
        }

        if (records is not null && type is not null && RecordSyntax.IsSupported(type))
        {
            if (type == "CNAME" && records.Count > 1)
            {
                Add(errors, "records", "A CNAME RRset can have at most one record.");
            }

            // Stored and compared in canonical form, as deSEC does: 2001:DB8::1 and 2001:db8::0001 are one record.
            for (var i = 0; i < records.Count; i++)
            {
                if (RecordSyntax.Check(type, records[i], out var canonical) is { } problem)
                {
                    Add(errors, "records", problem);
                }

                records[i] = canonical;
            }

            if (records.Distinct(StringComparer.Ordinal).Count() != records.Count)
            {
                Add(errors, "records", "Records must be unique within an RRset.");
            }
        }

        if (type == "CNAME" && subname is { Length: 0 })
        {
            Add(errors, "type", "A CNAME RRset cannot be at the zone apex.");
        }

        return errors.Count > 0 ? (null, errors) : (new RRsetItem(subname!, type!, ttl, records), errors);
    }

    public static void Add(Dictionary<string, List<string>> errors, string field, string message)
    {
        if (!errors.TryGetValue(field, out var list))
        {
            errors[field] = list = [];
        }

        list.Add(message);
    }

    private static string? ReadString(JsonElement json, string field, Dictionary<string, List<string>> errors, bool required)
    {
        if (!json.TryGetProperty(field, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                // Django REST framework's two messages: a field left out, and one sent as null.
                Add(errors, field, value.ValueKind == JsonValueKind.Null ? "This field may not be null." : "This field is required.");
            }

            return null;
        }

        if (!JsonText.TryRead(value, out var text))
        {
            Add(errors, field, "Not a valid string.");
            return null;
        }

        return text;
    }

    private static int? ReadTtl(JsonElement json, DnsOptions options, Dictionary<string, List<string>> errors)
    {
        if (!json.TryGetProperty("ttl", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var ttl))
        {
            Add(errors, "ttl", "A valid integer is required.");
            return null;
        }

        if (ttl < options.MinimumTtl)
        {
            Add(errors, "ttl", $"Ensure this value is greater than or equal to {options.MinimumTtl}.");
        }
        else if (ttl > options.MaximumTtl)
        {
            Add(errors, "ttl", $"Ensure this value is less than or equal to {options.MaximumTtl}.");
        }

        return ttl;
    }

    private static List<string>? ReadRecords(JsonElement json, Dictionary<string, List<string>> errors)
    {
        if (!json.TryGetProperty("records", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            Add(errors, "records", "Expected a list of items.");
            return null;
        }

        var records = new List<string>();
        foreach (var record in value.EnumerateArray())
        {
            if (!JsonText.TryRead(record, out var text))
            {
                Add(errors, "records", "Each record must be a string.");
                return null;
            }

            records.Add(text.Trim());
        }

        return records;
    }
}
