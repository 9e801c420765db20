namespace Sluice.Server.OpenApi;

/// <summary>
/// Marks an endpoint that answers errors with deSEC's bodies instead of problem details: 429 <c>{"detail": ...}</c>,
/// 404 <c>{"detail": "Not found."}</c> and 400 field errors (added by <c>WithDeSecBodies</c>).
/// </summary>
internal sealed class DeSecBodiesMetadata
{
    public static readonly DeSecBodiesMetadata Instance = new();
}
