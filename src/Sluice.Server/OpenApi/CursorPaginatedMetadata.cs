namespace Sluice.Server.OpenApi;

/// <summary>
/// Marks a list paginated as deSEC's are (the <c>cursor</c> parameter, <c>Link</c> headers, 400 when a long list is
/// asked for without a cursor, 404 for a cursor the server did not make); added by <c>WithCursorPagination</c>.
/// </summary>
internal sealed class CursorPaginatedMetadata
{
    public static readonly CursorPaginatedMetadata Instance = new();
}
