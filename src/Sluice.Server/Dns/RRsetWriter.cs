using Microsoft.EntityFrameworkCore;
using Sluice.Server.Data;
using Sluice.Server.Api;

namespace Sluice.Server.Dns;

/// <summary>
/// Applies validated RRset writes to one domain atomically: every item is checked against the domain's current RRsets
/// first, and the changes are saved in one transaction only if no item has an error. Errors come back per item, in
/// request order, with <c>{}</c> for items that were fine, as deSEC reports them.
/// </summary>
internal sealed class RRsetWriter(ServerDb db, TimeProvider time)
{
    /// <summary>The RRsets that exist after the write (deleted ones left out), or the per-item errors.</summary>
    public async Task<(List<RRset>? Result, List<Dictionary<string, List<string>>>? Errors)> ApplyAsync(Domain domain, IReadOnlyList<RRsetItem> items, DnsWriteMode mode, CancellationToken cancellationToken)
    {
        var existing = await db.RRsets.Where(r => r.DomainId == domain.Id).ToListAsync(cancellationToken);
        var byKey = existing.ToDictionary(r => (r.Subname, r.Type));
        var errors = items.Select(_ => new Dictionary<string, List<string>>(StringComparer.Ordinal)).ToList();
        var now = time.GetUtcNow();

        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var exists = byKey.TryGetValue((item.Subname, item.Type), out var current);
            if (mode == DnsWriteMode.Create && exists)
            {
                RRsetItem.Add(errors[i], "non_field_errors", "Another RRset with the same subdomain and type exists for this domain.");
            }
            else if (!exists && item.Records is { Count: > 0 } && item.Ttl is null)
            {
                RRsetItem.Add(errors[i], "ttl", "This field is required for new RRsets.");
            }
            else if (!exists && item.Records is null)
            {
                RRsetItem.Add(errors[i], "records", "This field is required for new RRsets.");
            }
        }

        // The state after the write, to check CNAME exclusivity against what will exist, not what exists now.
        var after = byKey.Keys.ToDictionary(k => k, _ => -1);
        for (var i = 0; i < items.Count; i++)
        {
            if (items[i].Records is { Count: 0 })
            {
                after.Remove((items[i].Subname, items[i].Type));
            }
            else
            {
                after[(items[i].Subname, items[i].Type)] = i;
            }
        }

        foreach (var group in after.GroupBy(p => p.Key.Subname).Where(g => g.Any(p => p.Key.Type == "CNAME") && g.Count() > 1))
        {
            foreach (var (_, index) in group.Where(p => p.Value >= 0))
            {
                RRsetItem.Add(errors[index], "non_field_errors", $"RRset with conflicting type present: a CNAME at '{Echo.Of(group.Key)}' cannot coexist with other types.");
            }
        }

        if (errors.Any(e => e.Count > 0))
        {
            return (null, errors);
        }

        var result = new List<RRset>();
        foreach (var item in items)
        {
            var exists = byKey.TryGetValue((item.Subname, item.Type), out var current);
            if (item.Records is { Count: 0 })
            {
                if (exists)
                {
                    db.RRsets.Remove(current!);
                }

                continue;
            }

            if (!exists)
            {
                current = new RRset { DomainId = domain.Id, Subname = item.Subname, Type = item.Type, Records = string.Empty, Created = now };
                db.RRsets.Add(current);
            }

            current!.Ttl = item.Ttl ?? current.Ttl;
            current.Records = item.Records is { } records ? string.Join('\n', records) : current.Records;
            current.Touched = now;
            result.Add(current);
        }

        domain.Touched = now;
        await db.SaveChangesAsync(cancellationToken);
        return (result, null);
    }
}
