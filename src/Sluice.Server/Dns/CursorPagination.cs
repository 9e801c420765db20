using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.EntityFrameworkCore;
using Sluice.Server.Data;

namespace Sluice.Server.Dns;

/// <summary>
/// deSEC's pagination of its lists (desec-stack's <c>LinkHeaderCursorPagination</c>, over Django REST framework's
/// <c>CursorPagination</c>), newest first as deSEC returns domains and RRsets ("in reverse chronological order of their
/// creation"), that is in descending order of the rows' ids (<see cref="ICreatedInOrder"/>):
/// <list type="bullet">
/// <item>without a <c>cursor</c> parameter, a list that fits in one page is answered whole, and a longer one is refused
/// with 400 <c>{"detail": "Pagination required. You can query up to 500 items at a time (N total). Please use the
/// `first` page link (see Link header)."}</c> and <c>Link: &lt;…?cursor=&gt;; rel="first"</c>;</item>
/// <item><c>?cursor=</c> (empty) is the first page, and every page of a list that needs more than one carries
/// <c>Link</c> with <c>first</c>, then <c>prev</c> and <c>next</c> where there is such a page: absolute URLs that keep
/// the request's other parameters;</item>
/// <item>a cursor this server did not make is answered 404 <c>{"detail": "Invalid cursor"}</c>.</item>
/// </list>
/// A cursor holds the id of the item a page starts after (or, going back, ends before), so pages stay consistent while
/// items are added or removed between requests.
/// </summary>
internal readonly struct CursorPagination
{
    private const string Parameter = "cursor";

    private CursorPagination(bool requested, bool backward, long? key, bool invalid)
    {
        Requested = requested;
        Backward = backward;
        Key = key;
        Invalid = invalid;
    }

    /// <summary>Whether the request names a page (sends <c>cursor</c>, even empty).</summary>
    public bool Requested { get; }

    /// <summary>Whether the page is the one before <see cref="Key"/> (a <c>prev</c> link), not the one after it.</summary>
    public bool Backward { get; }

    /// <summary>The id the page starts after, or ends before when <see cref="Backward"/>; null for the first page.</summary>
    public long? Key { get; }

    /// <summary>Whether the cursor is not one this server made.</summary>
    public bool Invalid { get; }

    /// <summary>The page a request asks for.</summary>
    public static CursorPagination Of(HttpRequest request)
    {
        if (!request.Query.TryGetValue(Parameter, out var values))
        {
            return new CursorPagination(false, false, null, false);
        }

        var text = values.Count == 1 ? values[0] ?? string.Empty : null;
        if (text is "")
        {
            return new CursorPagination(true, false, null, false);
        }

        // 'a' or 'b' (after or before), then the id's decimal digits in base64url.
        if (text is not { Length: > 1 } || text[0] is not ('a' or 'b') || !TryDecode(text.AsSpan(1), out var key))
        {
            return new CursorPagination(true, false, null, true);
        }

        return new CursorPagination(true, text[0] == 'b', key, false);
    }

    /// <summary>Answers the page of <paramref name="query"/>; <paramref name="respond"/> makes the 200 of its items.</summary>
    public async Task<IResult> AnswerAsync<T>(HttpContext context, int pageSize, IQueryable<T> query, Func<List<T>, IResult> respond, CancellationToken cancellationToken)
        where T : class, ICreatedInOrder
    {
        if (Invalid)
        {
            return TypedResults.Json(new Dictionary<string, string> { ["detail"] = "Invalid cursor" }, statusCode: StatusCodes.Status404NotFound);
        }

        List<T> items;
        bool hasNext, hasPrevious;
        if (Backward)
        {
            // The page before the cursor: the next-newer items, read oldest first and turned around.
            var id = Key!.Value;
            items = await query.Where(r => r.Id > id).OrderBy(r => r.Id).Take(pageSize + 1).ToListAsync(cancellationToken);
            hasPrevious = items.Count > pageSize;
            hasNext = true;
            if (hasPrevious)
            {
                items.RemoveAt(pageSize);
            }

            items.Reverse();
        }
        else
        {
            var older = Key is { } id ? query.Where(r => r.Id < id) : query;
            items = await older.OrderByDescending(r => r.Id).Take(pageSize + 1).ToListAsync(cancellationToken);
            hasNext = items.Count > pageSize;
            hasPrevious = Key is not null;
            if (hasNext)
            {
                items.RemoveAt(pageSize);
            }
        }

        if (!hasNext && !hasPrevious)
        {
            return respond(items);
        }

        var links = new List<string> { Link(context.Request, string.Empty, "first") };
        if (!Requested)
        {
            var total = await query.CountAsync(cancellationToken);
            context.Response.Headers.Link = links[0];
            return TypedResults.Json(
                new Dictionary<string, string> { ["detail"] = $"Pagination required. You can query up to {pageSize} items at a time ({total} total). Please use the `first` page link (see Link header)." },
                statusCode: StatusCodes.Status400BadRequest);
        }

        if (hasPrevious)
        {
            links.Add(Link(context.Request, "b" + Encode(items.Count > 0 ? items[0].Id : Key!.Value), "prev"));
        }

        if (hasNext)
        {
            links.Add(Link(context.Request, "a" + Encode(items.Count > 0 ? items[^1].Id : Key!.Value), "next"));
        }

        context.Response.Headers.Link = string.Join(", ", links);
        return respond(items);
    }

    /// <summary>The request's absolute URL with <c>cursor</c> set, the parameters in name order (as Django REST framework writes them).</summary>
    private static string Link(HttpRequest request, string cursor, string relation)
    {
        var query = new QueryBuilder();
        foreach (var (name, values) in request.Query.Where(p => p.Key != Parameter).Append(new(Parameter, cursor)).OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            foreach (var value in values)
            {
                query.Add(name, value ?? string.Empty);
            }
        }

        return $"<{UriHelper.BuildAbsolute(request.Scheme, request.Host, request.PathBase, request.Path, query.ToQueryString())}>; rel=\"{relation}\"";
    }

    private static string Encode(long id) => Base64Url.EncodeToString(Encoding.ASCII.GetBytes(id.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The id a cursor's base64url text holds: ASCII digits only, no sign, no more than fit a <see cref="long"/>.</summary>
    private static bool TryDecode(ReadOnlySpan<char> text, out long id)
    {
        id = 0;
        Span<byte> digits = stackalloc byte[32];
        return text.Length <= 32
            && Base64Url.IsValid(text, out var length)
            && Base64Url.DecodeFromChars(text, digits) == length
            && long.TryParse(digits[..length], NumberStyles.None, CultureInfo.InvariantCulture, out id);
    }
}
