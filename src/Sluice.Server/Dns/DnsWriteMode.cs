namespace Sluice.Server.Dns;

/// <summary>How a write treats RRsets: POST creates, PATCH changes the fields given, PUT replaces.</summary>
internal enum DnsWriteMode
{
    /// <summary>POST: every RRset must be new; ttl and non-empty records are required.</summary>
    Create,

    /// <summary>PATCH: fields not given are kept; a new RRset needs ttl and records; empty records delete.</summary>
    Patch,

    /// <summary>PUT: ttl and records are required; empty records delete.</summary>
    Replace,
}
