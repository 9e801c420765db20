namespace Sluice.Server.Data;

/// <summary>An issued certificate.</summary>
public sealed class Certificate
{
    public long Id { get; set; }

    public long AccountId { get; set; }

    public required string RecipientEmail { get; set; }

    public required string RecipientName { get; set; }

    public required string Course { get; set; }

    public DateTimeOffset IssuedAt { get; set; }
}
