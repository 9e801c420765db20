namespace Sluice.Server.OpenApi;

/// <summary>Marks an endpoint that answers 401 without an API key (added by <c>RequireApiKey</c>).</summary>
internal sealed class ApiKeyRequiredMetadata
{
    public static readonly ApiKeyRequiredMetadata Instance = new();
}
