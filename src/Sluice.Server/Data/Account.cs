namespace Sluice.Server.Data;

/// <summary>A customer account: owns API keys, certificates and domains, and has a plan that sets its monthly quota.</summary>
public sealed class Account
{
    public long Id { get; set; }

    public required string Name { get; set; }

    /// <summary>The plan name (<c>free</c>, <c>pro</c>, <c>enterprise</c>, or any configured under <c>Quotas:Plans</c>).</summary>
    public required string Plan { get; set; }

    /// <summary>Replaces the plan's monthly unique-recipient quota for this account when set.</summary>
    public long? MonthlyRecipientsOverride { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
}
