namespace Sluice.Server.Quotas;

/// <summary>The <c>Quotas</c> section: monthly unique-recipient quotas per plan, and where usage is kept.</summary>
public sealed class QuotaOptions
{
    /// <summary>
    /// Unique recipients per calendar month (UTC) for each plan. The default value is free 50, pro 5,000,
    /// enterprise 100,000. An account's own override replaces its plan's number.
    /// </summary>
    public Dictionary<string, long> Plans { get; set; } = new(StringComparer.OrdinalIgnoreCase)
    {
        ["free"] = 50,
        ["pro"] = 5_000,
        ["enterprise"] = 100_000,
    };

    /// <summary><c>Sqlite</c> (the server's database file) or <c>Redis</c> (<c>Sluice:Redis:Configuration</c>). The default value is <c>Sqlite</c>.</summary>
    public string Store { get; set; } = "Sqlite";

    /// <summary>Every problem with these options, with its configuration path.</summary>
    public List<string> Validate()
    {
        var problems = new List<string>();
        if (Plans.Count == 0)
        {
            problems.Add("Quotas:Plans is empty; configure at least one plan, such as \"free\": 50.");
        }

        foreach (var (plan, limit) in Plans)
        {
            if (limit < 0)
            {
                problems.Add($"Quotas:Plans:{plan} is {limit}; a quota must not be negative.");
            }
        }

        if (!string.Equals(Store, "Sqlite", StringComparison.OrdinalIgnoreCase) && !string.Equals(Store, "Redis", StringComparison.OrdinalIgnoreCase))
        {
            problems.Add($"Quotas:Store '{Store}' is unknown; use Sqlite or Redis.");
        }

        return problems;
    }
}
