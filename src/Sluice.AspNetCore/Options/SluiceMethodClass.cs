namespace Sluice.AspNetCore;

/// <summary>Which HTTP methods a layer counts.</summary>
internal enum SluiceMethodClass
{
    /// <summary>Every method.</summary>
    All,

    /// <summary>Safe methods only: GET, HEAD, OPTIONS, TRACE.</summary>
    Read,

    /// <summary>Unsafe methods only: POST, PUT, PATCH, DELETE and the rest.</summary>
    Write,
}
