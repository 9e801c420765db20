using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Data;
using Sluice.Server.OpenApi;

namespace Sluice.Server.Dns;

/// <summary>
/// deSEC's DNS API (domains and RRsets, with bulk writes) in deSEC's request and response shapes, under deSEC's
/// limits: per-domain write rates, per-account reads and domain changes, a daily cap per account, and a per-domain
/// writer lock. A bulk request is one request, so it is charged once. Every 429 carries deSEC's body.
/// </summary>
internal static class DnsEndpoints
{
    public const string PerDomainWrites = "dns_api_per_domain_expensive";
    public const string DomainChanges = "dns_api_expensive";
    public const string Reads = "dns_api_cheap";
    public const string Daily = "user";

    /// <summary>The domain list's filter for the domain responsible for a DNS name, as deSEC names it.</summary>
    private const string OwnsQname = "owns_qname";

    /// <summary>The key selector of the per-domain layer: the account and the domain, so a stranger's requests for a domain never use up its owner's rate.</summary>
    public const string AccountDomainKey = "account-domain";

    public static void MapDnsEndpoints(this IEndpointRouteBuilder app)
    {
        var dns = app.MapGroup("/api/v1/domains").RequireApiKey(Unauthorized).OnRateLimitRejected(DeSecThrottle.OnRejected).WithDeSecBodies().WithTags("DNS");
        dns.MapGet("/", ListDomains).RequireRateLimit(Reads, Daily).Produces<List<DomainResponse>>().WithCursorPagination()
            .WithQueryParameter(OwnsQname, "A DNS name: the list then holds only the caller's domain responsible for it (the longest one the name is in or under), or nothing, and is not paginated.");
        dns.MapPost("/", CreateDomain).RequireRateLimit(DomainChanges, Daily)
            .Accepts<DomainRequest>("application/json").Produces<DomainResponse>(StatusCodes.Status201Created);
        dns.MapGet("/{name}/", GetDomain).RequireRateLimit(Reads, Daily).Produces<DomainResponse>();
        dns.MapDelete("/{name}/", DeleteDomain).RequireRateLimit(DomainChanges, Daily).Produces(StatusCodes.Status204NoContent);
        dns.MapGet("/{name}/rrsets/", ListRRsets).RequireRateLimit(Reads, Daily).Produces<List<RRsetResponse>>().WithCursorPagination();
        // One RRset (an object) or a bulk request (an array): the RRsets written, or 204 when a single write left none.
        dns.MapPost("/{name}/rrsets/", WriteCollection).RequireRateLimit(PerDomainWrites, Daily)
            .Accepts<JsonElement>("application/json").Produces<List<RRsetResponse>>(StatusCodes.Status201Created).Produces(StatusCodes.Status204NoContent);
        dns.MapMethods("/{name}/rrsets/", ["PATCH", "PUT"], WriteCollection).RequireRateLimit(PerDomainWrites, Daily)
            .Accepts<JsonElement>("application/json").Produces<List<RRsetResponse>>().Produces(StatusCodes.Status204NoContent);
        dns.MapGet("/{name}/rrsets/{**path}", GetRRset).RequireRateLimit(Reads, Daily).Produces<RRsetResponse>();
        dns.MapMethods("/{name}/rrsets/{**path}", ["PATCH", "PUT"], WriteOne).RequireRateLimit(PerDomainWrites, Daily)
            .Accepts<JsonElement>("application/json").Produces<RRsetResponse>().Produces(StatusCodes.Status204NoContent);
        dns.MapDelete("/{name}/rrsets/{**path}", WriteOne).RequireRateLimit(PerDomainWrites, Daily).Produces(StatusCodes.Status204NoContent);
    }

    /// <summary>The per-domain layer's key: <c>{account id}:{domain}</c>, or none outside a domain route or without a key.</summary>
    public static string? AccountDomain(HttpContext context)
        => context.GetRouteValue("name") is string name && ApiCaller.From(context.User) is { } caller
            ? $"{caller.AccountId}:{name.ToLowerInvariant()}"
            : null;

    private static async Task<IResult> ListDomains(HttpContext context, ServerDb db, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        var caller = ApiCaller.Of(context);
        if (context.Request.Query.TryGetValue(OwnsQname, out var qnames))
        {
            // deSEC's "responsible domain" filter, which ACME clients use to find where _acme-challenge goes: the
            // caller's longest domain that the name is in or under, or none. Not paginated (a cursor is ignored), and
            // the last value counts when the parameter is repeated, as in Django.
            var zones = DnsNames.ZonesHolding(qnames[^1] ?? string.Empty);
            var responsible = zones.Count == 0
                ? []
                : await db.Domains.AsNoTracking()
                    .Where(d => d.AccountId == caller.AccountId && zones.Contains(d.Name))
                    .OrderByDescending(d => d.Name.Length)
                    .Take(1)
                    .ToListAsync(cancellationToken);
            return TypedResults.Ok(responsible.Select(d => DomainResponse.From(d, options.Value.MinimumTtl)).ToList());
        }

        // Newest first, as deSEC lists domains.
        return await CursorPagination.Of(context.Request).AnswerAsync(
            context,
            options.Value.PageSize,
            db.Domains.AsNoTracking().Where(d => d.AccountId == caller.AccountId),
            domains => TypedResults.Ok(domains.Select(d => DomainResponse.From(d, options.Value.MinimumTtl)).ToList()),
            cancellationToken);
    }

    /// <remarks>
    /// The body is read here rather than bound, so that what is not JSON, not an object or not a string answers in
    /// deSEC's shapes (<c>{"detail": ...}</c>, <c>{"name": [...]}</c>) like every other DNS endpoint, not in the
    /// certificate API's problem+json.
    /// </remarks>
    private static async Task<IResult> CreateDomain(HttpContext context, ServerDb db, TimeProvider time, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        var read = await ReadJsonAsync(context, options.Value, cancellationToken);
        if (read.TooLarge)
        {
            return TooLarge(options.Value);
        }

        if (read.Value is not { } body)
        {
            return ParseError();
        }

        if (body.ValueKind != JsonValueKind.Object)
        {
            return Json(StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { ["non_field_errors"] = [$"Invalid data. Expected a dictionary, but got {body.ValueKind.ToString().ToLowerInvariant()}."] });
        }

        var requested = body.TryGetProperty("name", out var value) ? value : default;
        if (requested.ValueKind is JsonValueKind.Null)
        {
            return FieldError("name", "This field may not be null.");
        }

        var text = (string?)null;
        if (requested.ValueKind != JsonValueKind.Undefined && !JsonText.TryRead(requested, out text))
        {
            return FieldError("name", "Not a valid string.");
        }

        var name = text?.Trim().TrimEnd('.').ToLowerInvariant();
        if (string.IsNullOrEmpty(name))
        {
            return FieldError("name", "This field is required.");
        }

        if (!DnsNames.IsDomain(name))
        {
            return FieldError("name", $"'{Echo.Of(text)}' is not a valid domain name.");
        }

        var domain = new Domain { AccountId = ApiCaller.Of(context).AccountId, Name = name, Created = time.GetUtcNow() };
        db.Domains.Add(domain);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (ServerDb.IsUniqueViolation(e))
        {
            // The name is taken, also when another request created it a moment ago: the unique index decides, so two
            // concurrent creations of one name give one 201 and one 400. Any other failure of the insert is a 500.
            return FieldError("name", "This domain name conflicts with an existing zone, or is disallowed by policy.");
        }

        return TypedResults.Created($"/api/v1/domains/{name}/", DomainResponse.From(domain, options.Value.MinimumTtl));
    }

    private static async Task<IResult> GetDomain(string name, HttpContext context, ServerDb db, IOptions<DnsOptions> options, CancellationToken cancellationToken)
        => await FindDomain(name, context, db, tracked: false, cancellationToken) is { } domain
            ? TypedResults.Ok(DomainResponse.From(domain, options.Value.MinimumTtl))
            : NotFound();

    private static async Task<IResult> DeleteDomain(string name, HttpContext context, ServerDb db, DomainWriteLocks locks, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        await using var held = await locks.AcquireAsync(name.ToLowerInvariant(), options.Value.WriteWait, cancellationToken);
        if (held is null)
        {
            return Busy();
        }

        // Deleting a domain that does not exist (or is not yours) answers 204, as deSEC does: the end state is the same.
        if (await FindDomain(name, context, db, tracked: true, cancellationToken) is { } domain)
        {
            // One transaction: a failure between the two leaves the domain with all its RRsets, never without them.
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            await db.RRsets.Where(r => r.DomainId == domain.Id).ExecuteDeleteAsync(cancellationToken);
            db.Domains.Remove(domain);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        return TypedResults.NoContent();
    }

    private static async Task<IResult> ListRRsets(string name, string? subname, string? type, HttpContext context, ServerDb db, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        if (await FindDomain(name, context, db, tracked: false, cancellationToken) is not { } domain)
        {
            return NotFound();
        }

        var query = db.RRsets.AsNoTracking().Where(r => r.DomainId == domain.Id);
        if (subname is not null)
        {
            var wanted = subname == "@" ? string.Empty : subname.ToLowerInvariant();
            query = query.Where(r => r.Subname == wanted);
        }

        if (type is not null)
        {
            var wanted = type.ToUpperInvariant();
            if (RecordSyntax.IsAutomatic(wanted))
            {
                // deSEC's answer to a list filtered by a type the operator manages.
                return Json(StatusCodes.Status403Forbidden, new Dictionary<string, string> { ["detail"] = $"You cannot tinker with the {Echo.Of(wanted)} RRset." });
            }

            query = query.Where(r => r.Type == wanted);
        }

        // Newest first, as deSEC lists RRsets.
        return await CursorPagination.Of(context.Request).AnswerAsync(
            context,
            options.Value.PageSize,
            query,
            rrsets => TypedResults.Ok(rrsets.Select(r => RRsetResponse.From(r, domain.Name)).ToList()),
            cancellationToken);
    }

    private static async Task<IResult> GetRRset(string name, string? path, HttpContext context, ServerDb db, CancellationToken cancellationToken)
    {
        if (ParsePath(path) is not { } at || await FindDomain(name, context, db, tracked: false, cancellationToken) is not { } domain)
        {
            return NotFound();
        }

        var rrset = await db.RRsets.AsNoTracking().FirstOrDefaultAsync(r => r.DomainId == domain.Id && r.Subname == at.Subname && r.Type == at.Type, cancellationToken);
        return rrset is null ? NotFound() : TypedResults.Ok(RRsetResponse.From(rrset, domain.Name));
    }

    private static async Task<IResult> WriteCollection(string name, HttpContext context, ServerDb db, RRsetWriter writer, DomainWriteLocks locks, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        var mode = ModeOf(context.Request.Method);
        var read = await ReadJsonAsync(context, options.Value, cancellationToken);
        if (read.TooLarge)
        {
            return TooLarge(options.Value);
        }

        if (read.Value is not { } body)
        {
            return ParseError();
        }

        if (await FindDomain(name, context, db, tracked: true, cancellationToken) is not { } domain)
        {
            return NotFound();
        }

        if (body.ValueKind == JsonValueKind.Object)
        {
            if (mode != DnsWriteMode.Create)
            {
                return Json(StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { ["non_field_errors"] = ["Expected a list of items but got type \"dict\"."] });
            }

            var (item, errors) = RRsetItem.Parse(body, options.Value, mode);
            if (item is null)
            {
                return Json(StatusCodes.Status400BadRequest, errors);
            }

            return await WriteLocked(domain, [item], mode, single: true, writer, locks, options.Value, cancellationToken);
        }

        if (body.ValueKind != JsonValueKind.Array)
        {
            return Json(StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { ["non_field_errors"] = ["Expected a list of items or a dictionary."] });
        }

        var entries = body.EnumerateArray().ToList();
        if (entries.Count > options.Value.MaxBulkItems)
        {
            return Json(StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { ["non_field_errors"] = [$"A bulk request may carry at most {options.Value.MaxBulkItems} RRsets; this one has {entries.Count}."] });
        }

        var items = new List<RRsetItem?>();
        var itemErrors = new List<Dictionary<string, List<string>>>();
        foreach (var entry in entries)
        {
            var (item, errors) = RRsetItem.Parse(entry, options.Value, mode);
            items.Add(item);
            itemErrors.Add(errors);
        }

        MarkDuplicates(items, itemErrors);
        if (itemErrors.Any(e => e.Count > 0))
        {
            return Json(StatusCodes.Status400BadRequest, itemErrors);
        }

        return await WriteLocked(domain, items.Select(i => i!).ToList(), mode, single: false, writer, locks, options.Value, cancellationToken);
    }

    private static async Task<IResult> WriteOne(string name, string? path, HttpContext context, ServerDb db, RRsetWriter writer, DomainWriteLocks locks, IOptions<DnsOptions> options, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(path))
        {
            // DELETE on the collection: the catch-all also matches an empty path, but the collection takes no DELETE
            // (its PATCH and PUT reach WriteCollection). The status code pages write deSEC's body.
            context.Response.Headers.Allow = "GET, POST, PATCH, PUT";
            return Results.StatusCode(StatusCodes.Status405MethodNotAllowed);
        }

        if (ParsePath(path) is not { } at || await FindDomain(name, context, db, tracked: true, cancellationToken) is not { } domain)
        {
            return NotFound();
        }

        if (HttpMethods.IsDelete(context.Request.Method))
        {
            return await WriteLocked(domain, [new RRsetItem(at.Subname, at.Type, null, [])], DnsWriteMode.Patch, single: true, writer, locks, options.Value, cancellationToken);
        }

        var read = await ReadJsonAsync(context, options.Value, cancellationToken);
        if (read.TooLarge)
        {
            return TooLarge(options.Value);
        }

        if (read.Value is not { } body)
        {
            return ParseError();
        }

        var mode = ModeOf(context.Request.Method);
        var (item, errors) = RRsetItem.Parse(body, options.Value, mode, at.Subname, at.Type);
        if (item is null)
        {
            return Json(StatusCodes.Status400BadRequest, errors);
        }

        await using var held = await locks.AcquireAsync(domain.Name, options.Value.WriteWait, cancellationToken);
        if (held is null)
        {
            return Busy();
        }

        if (!await db.RRsets.AnyAsync(r => r.DomainId == domain.Id && r.Subname == item.Subname && r.Type == item.Type, cancellationToken))
        {
            return NotFound();
        }

        return await Apply(domain, [item], mode, single: true, writer, cancellationToken);
    }

    private static async Task<IResult> WriteLocked(Domain domain, List<RRsetItem> items, DnsWriteMode mode, bool single, RRsetWriter writer, DomainWriteLocks locks, DnsOptions options, CancellationToken cancellationToken)
    {
        await using var held = await locks.AcquireAsync(domain.Name, options.WriteWait, cancellationToken);
        return held is null ? Busy() : await Apply(domain, items, mode, single, writer, cancellationToken);
    }

    private static async Task<IResult> Apply(Domain domain, List<RRsetItem> items, DnsWriteMode mode, bool single, RRsetWriter writer, CancellationToken cancellationToken)
    {
        var (result, errors) = await writer.ApplyAsync(domain, items, mode, cancellationToken);
        if (errors is not null)
        {
            return single ? Json(StatusCodes.Status400BadRequest, errors[0]) : Json(StatusCodes.Status400BadRequest, errors);
        }

        var shown = result!.Select(r => RRsetResponse.From(r, domain.Name)).ToList();
        var status = mode == DnsWriteMode.Create ? StatusCodes.Status201Created : StatusCodes.Status200OK;
        if (!single)
        {
            return Json(status, shown);
        }

        return shown.Count == 0 ? TypedResults.NoContent() : Json(status, shown[0]);
    }

    /// <summary>Flags every item whose (subname, type) another item of the same request also has.</summary>
    private static void MarkDuplicates(List<RRsetItem?> items, List<Dictionary<string, List<string>>> errors)
    {
        var positions = items
            .Select((item, index) => (item, index))
            .Where(p => p.item is not null)
            .GroupBy(p => (p.item!.Subname, p.item.Type))
            .Where(g => g.Count() > 1);
        foreach (var group in positions)
        {
            foreach (var (_, index) in group)
            {
                var others = string.Join(", ", group.Select(g => g.index).Where(i => i != index));
                RRsetItem.Add(errors[index], "non_field_errors", $"Same subname and type as in position(s) {others}, but must be unique.");
            }
        }
    }

    /// <summary>
    /// <c>{subname}/{type}/</c> from the rest of the URL. The apex is <c>@</c> or an empty segment
    /// (<c>rrsets/@/A/</c>, <c>rrsets//A/</c>); the trailing slash is optional. As on deSEC, the subname may also be
    /// written with three dots or an <c>@</c> after it, which stand for the domain (<c>rrsets/www.../A/</c> and
    /// <c>rrsets/www@/A/</c> are <c>www</c>, <c>rrsets/.../A/</c> the apex), so that a client can build the URL by
    /// plain string expansion whatever the subname.
    /// </summary>
    internal static (string Subname, string Type)? ParsePath(string? path)
    {
        var parts = (path ?? string.Empty).Split('/');
        if (parts.Length == 3 && parts[2].Length == 0)
        {
            parts = parts[..2];
        }

        if (parts.Length != 2 || parts[1].Length == 0)
        {
            return null;
        }

        var segment = parts[0];
        var subname = (segment.EndsWith("...", StringComparison.Ordinal) ? segment[..^3]
            : segment.EndsWith('@') ? segment[..^1]
            : segment).ToLowerInvariant();
        return DnsNames.IsSubname(subname) ? (subname, parts[1].ToUpperInvariant()) : null;
    }

    private static async Task<Domain?> FindDomain(string name, HttpContext context, ServerDb db, bool tracked, CancellationToken cancellationToken)
    {
        var caller = ApiCaller.Of(context);
        var lower = name.ToLowerInvariant();
        var query = tracked ? db.Domains : db.Domains.AsNoTracking();
        return await query.FirstOrDefaultAsync(d => d.Name == lower && d.AccountId == caller.AccountId, cancellationToken);
    }

    /// <summary>
    /// The request's JSON body (<see cref="JsonBody.Value"/> null when it is not JSON), read only up to
    /// <see cref="DnsOptions.MaxBodyBytes"/>: a larger body is not parsed (<see cref="JsonBody.TooLarge"/>), so that a
    /// 20 MB bulk request costs 4 MiB, not the hundreds of megabytes its parsed form would.
    /// </summary>
    private static async Task<JsonBody> ReadJsonAsync(HttpContext context, DnsOptions options, CancellationToken cancellationToken)
    {
        if (await BoundedBody.ReadAsync(context.Request, options.MaxBodyBytes, cancellationToken) is not { } body)
        {
            return new JsonBody(null, TooLarge: true);
        }

        try
        {
            using var document = JsonDocument.Parse(body.GetBuffer().AsMemory(0, (int)body.Length));
            return new JsonBody(document.RootElement.Clone(), TooLarge: false);
        }
        catch (JsonException)
        {
            return new JsonBody(null, TooLarge: false);
        }
    }

    /// <summary>deSEC-style 413 for a body past <see cref="DnsOptions.MaxBodyBytes"/>.</summary>
    private static IResult TooLarge(DnsOptions options)
        => Json(StatusCodes.Status413PayloadTooLarge, new Dictionary<string, string> { ["detail"] = $"The request body is larger than {options.MaxBodyBytes} bytes; split it into several requests." });

    private static DnsWriteMode ModeOf(string method)
        => HttpMethods.IsPost(method) ? DnsWriteMode.Create : HttpMethods.IsPut(method) ? DnsWriteMode.Replace : DnsWriteMode.Patch;

    private static IResult Json<T>(int status, T value) => TypedResults.Json(value, statusCode: status);

    private static IResult FieldError(string field, string message)
        => Json(StatusCodes.Status400BadRequest, new Dictionary<string, string[]> { [field] = [message] });

    /// <summary>
    /// deSEC's 401 (Django REST Framework's token authentication): <c>WWW-Authenticate: Token</c> and
    /// <c>{"detail": "Authentication credentials were not provided."}</c>, or <c>"Invalid token."</c> when a key was sent.
    /// </summary>
    private static IResult Unauthorized(HttpContext context)
    {
        context.Response.Headers.WWWAuthenticate = "Token";
        var presented = context.Request.Headers.Authorization.Count > 0 || context.Request.Headers.ContainsKey("X-API-Key");
        return Json(StatusCodes.Status401Unauthorized, new Dictionary<string, string> { ["detail"] = presented ? "Invalid token." : "Authentication credentials were not provided." });
    }

    private static IResult NotFound() => Json(StatusCodes.Status404NotFound, new Dictionary<string, string> { ["detail"] = "Not found." });

    private static IResult ParseError() => Json(StatusCodes.Status400BadRequest, new Dictionary<string, string> { ["detail"] = "JSON parse error - the body is not valid JSON." });

    /// <summary>The domain stayed busy for the whole bounded wait: throttled like any other 429, to retry in a second.</summary>
    private static IResult Busy() => Results.Extensions.DeSecThrottled(1);
}
