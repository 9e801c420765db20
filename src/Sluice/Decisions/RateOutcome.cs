namespace Sluice;

/// <summary>What one rate of one layer decided.</summary>
public enum RateOutcome : byte
{
    /// <summary>The rate had room for the request's cost.</summary>
    Allowed,

    /// <summary>The rate had no room; the request is denied.</summary>
    Denied,

    /// <summary>The rate, in a shadow layer, had no room; the request was not denied because of it.</summary>
    ShadowDenied,
}
