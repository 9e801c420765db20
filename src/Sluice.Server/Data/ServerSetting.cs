namespace Sluice.Server.Data;

/// <summary>A named value the server keeps for itself, such as the hash of a generated admin token.</summary>
public sealed class ServerSetting
{
    public required string Name { get; set; }

    public required string Value { get; set; }
}
