using System.Text.Json.Serialization;

namespace Sluice.Server.Admin;

/// <summary>
/// The body of <c>PUT /admin/accounts/{id}/quota</c>: <c>monthly_recipients</c> is required, a number, or null to
/// restore the plan's quota. A body without it (<c>{}</c>, or a misspelt name) is refused rather than read as null, so
/// that a typo cannot silently remove an account's quota override.
/// </summary>
public sealed class SetQuotaRequest
{
    private long? _monthlyRecipients;

    /// <summary>The account's monthly quota of distinct recipients; null restores the plan's.</summary>
    public long? MonthlyRecipients
    {
        get => _monthlyRecipients;
        set
        {
            _monthlyRecipients = value;
            HasMonthlyRecipients = true;
        }
    }

    /// <summary>Whether the body named <c>monthly_recipients</c> at all (null included).</summary>
    [JsonIgnore]
    public bool HasMonthlyRecipients { get; private set; }
}
