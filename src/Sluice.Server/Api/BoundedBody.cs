namespace Sluice.Server.Api;

/// <summary>Reads a request body into memory only up to a size, so that an oversized body costs at most that much.</summary>
internal static class BoundedBody
{
    /// <summary>
    /// The body, or null when it is larger than <paramref name="max"/> bytes (by its <c>Content-Length</c>, before
    /// anything is read, or while reading one sent in chunks).
    /// </summary>
    public static async Task<MemoryStream?> ReadAsync(HttpRequest request, long max, CancellationToken cancellationToken)
    {
        if (request.ContentLength > max)
        {
            return null;
        }

        var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > max)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        buffer.Position = 0;
        return buffer;
    }
}
