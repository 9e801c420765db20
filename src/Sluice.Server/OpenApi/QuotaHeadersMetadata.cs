namespace Sluice.Server.OpenApi;

/// <summary>Marks an endpoint that sends <c>X-Quota-*</c> headers and may answer 403 <c>QUOTA_EXCEEDED</c>.</summary>
internal sealed class QuotaHeadersMetadata
{
    public static readonly QuotaHeadersMetadata Instance = new();
}
