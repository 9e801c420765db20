using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sluice.Quotas;
using Sluice.Server.Api;
using Sluice.Server.Auth;
using Sluice.Server.Data;
using Sluice.Server.OpenApi;
using Sluice.Server.Quotas;

namespace Sluice.Server.Certificates;

/// <summary>CertDirectory's API: the caller's account, certificates one at a time, and the bulk CSV upload.</summary>
internal static class CertificateEndpoints
{
    private const int MaxPageSize = 200;

    public static void MapCertificateEndpoints(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api").RequireApiKey().WithTags("Certificates");
        api.MapGet("/me", GetMe).Produces<MeResponse>().WithName("GetMe").WithSummary("The caller's account and its quota usage this month.").WithQuotaHeaders();
        api.MapPost("/certificates", Issue).Produces<CertificateResponse>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest).WithJsonBodyLimit(app).WithName("IssueCertificate").WithSummary("Issues one certificate; a recipient new this month is charged to the quota.").WithQuotaHeaders();
        api.MapGet("/certificates", List).Produces<CertificatePage>().ProducesProblem(StatusCodes.Status400BadRequest).WithName("ListCertificates").WithSummary("The account's certificates, newest first, paged.");
        api.MapGet("/certificates/{id:long}", Get).Produces<CertificateResponse>().ProducesProblem(StatusCodes.Status404NotFound).WithName("GetCertificate").WithSummary("One certificate.");
        api.MapPost("/certificates/bulk", Bulk)
            .DisableRateLimit()
            .Accepts<string>("text/csv")
            .Produces<BulkResult>()
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .WithName("BulkIssueCertificates")
            .WithSummary("Bulk CSV upload: exempt from every rate-limit layer, still bound by the monthly quota.")
            .WithQuotaHeaders();
    }

    private static async Task<IResult> GetMe(HttpContext context, ServerDb db, RecipientQuota quota, CancellationToken cancellationToken)
    {
        var account = await AccountOf(context, db, cancellationToken);
        var usage = await quota.UsageAsync(account, cancellationToken);
        RecipientQuota.WriteHeaders(context.Response, usage.Limit, usage.Remaining, usage.ResetsAt);
        return TypedResults.Ok(new MeResponse(account.Id, account.Name, account.Plan, new QuotaResponse(usage.Limit, usage.Used, usage.Remaining, RecipientQuota.FormatReset(usage.ResetsAt))));
    }

    private static async Task<IResult> Issue(CertificateRequest? request, HttpContext context, ServerDb db, RecipientQuota quota, TimeProvider time, ILogger<Certificate> logger, CancellationToken cancellationToken)
    {
        if (request is null)
        {
            return ApiProblems.Invalid("body", "A JSON body with recipient_email, recipient_name and course is required.");
        }

        if (request.Validate() is { } error)
        {
            return ApiProblems.Invalid(error.Field, error.Message);
        }

        var account = await AccountOf(context, db, cancellationToken);
        var decision = await quota.ChargeAsync(account, request.RecipientEmail!, cancellationToken);
        if (!decision.IsAllowed)
        {
            return RecipientQuota.Exceeded(context.Response, decision);
        }

        var certificate = NewCertificate(account, request, time);
        db.Certificates.Add(certificate);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch when (decision.Outcome == QuotaOutcome.Charged)
        {
            // Nothing was issued: the recipient must not count.
            await quota.RefundAsync(account, request.RecipientEmail!, logger);
            throw;
        }

        RecipientQuota.WriteHeaders(context.Response, decision.Limit, decision.Remaining, decision.ResetsAt);
        return TypedResults.Created($"/api/certificates/{certificate.Id}", CertificateResponse.From(certificate));
    }

    private static async Task<IResult> List(HttpContext context, ServerDb db, int? page, int? page_size, CancellationToken cancellationToken)
    {
        var number = page ?? 1;
        var size = page_size ?? 50;
        if (number < 1)
        {
            return ApiProblems.Invalid("page", "page starts at 1.");
        }

        if (size is < 1 or > MaxPageSize)
        {
            return ApiProblems.Invalid("page_size", $"page_size must be between 1 and {MaxPageSize}.");
        }

        var caller = ApiCaller.Of(context);
        var query = db.Certificates.AsNoTracking().Where(c => c.AccountId == caller.AccountId);
        var total = await query.CountAsync(cancellationToken);

        // In 64 bits: (page - 1) × page_size passes int.MaxValue from page 10,737,419 at 200 a page, and a wrapped,
        // negative offset would answer a far page with the first one's certificates.
        var offset = (long)(number - 1) * size;
        var items = offset >= total
            ? []
            : await query.OrderByDescending(c => c.Id).Skip((int)offset).Take(size).ToListAsync(cancellationToken);
        var next = (long)number * size < total ? $"/api/certificates?page={number + 1}&page_size={size}" : null;
        return TypedResults.Ok(new CertificatePage(items.Select(CertificateResponse.From).ToList(), number, size, total, next));
    }

    private static async Task<IResult> Get(long id, HttpContext context, ServerDb db, CancellationToken cancellationToken)
    {
        var caller = ApiCaller.Of(context);
        var certificate = await db.Certificates.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.AccountId == caller.AccountId, cancellationToken);
        return certificate is null ? ApiProblems.NotFound($"Certificate {id}") : TypedResults.Ok(CertificateResponse.From(certificate));
    }

    private static async Task<IResult> Bulk(HttpContext context, ServerDb db, RecipientQuota quota, TimeProvider time, IOptions<BulkUploadOptions> options, ILogger<Certificate> logger, CancellationToken cancellationToken)
    {
        var request = context.Request;
        if (request.ContentType is not { } type || !type.StartsWith("text/csv", StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblems.Problem(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", "Send the rows as 'Content-Type: text/csv'.");
        }

        if (CsvBody.EncodingOf(type, out var charset) is not { } encoding)
        {
            return ApiProblems.Problem(StatusCodes.Status415UnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Unsupported media type", $"The charset '{Echo.Of(charset)}' is unknown; send UTF-8, or name a charset such as windows-1252 or iso-8859-1.");
        }

        var max = options.Value.BulkMaxBytes;
        if (await BoundedBody.ReadAsync(request, max, cancellationToken) is not { } body)
        {
            return ApiProblems.Problem(StatusCodes.Status413PayloadTooLarge, "PAYLOAD_TOO_LARGE", "Payload too large", $"The CSV body is larger than {max} bytes; split it.");
        }

        if (CsvBody.Decode(body.GetBuffer().AsSpan(0, (int)body.Length), encoding, out var read, out var badRow) is not { } text)
        {
            return Malformed(badRow, $"the body is not valid {read} text; send UTF-8, or name the file's charset, such as 'Content-Type: text/csv; charset=windows-1252'");
        }

        var (records, error) = CsvTable.Parse(text);
        if (error is { } malformed)
        {
            return Malformed(malformed.Row, malformed.Message);
        }

        if (records.Count == 0)
        {
            return Malformed(1, "the header row recipient_email,recipient_name,course is missing");
        }

        var header = records[0].Fields.Select(h => h.Trim().ToLowerInvariant()).ToArray();
        int email = Array.IndexOf(header, "recipient_email"), name = Array.IndexOf(header, "recipient_name"), course = Array.IndexOf(header, "course");
        if (email < 0 || name < 0 || course < 0 || header.Length != 3)
        {
            return Malformed(1, $"the header must be recipient_email,recipient_name,course, not '{Echo.Of(string.Join(',', records[0].Fields))}'");
        }

        var rows = new List<(int Row, CertificateRequest Request)>();
        foreach (var (row, fields) in records.Skip(1))
        {
            if (fields.Length != 3)
            {
                return Malformed(row, $"{fields.Length} fields where the header has 3");
            }

            var item = new CertificateRequest(fields[email].Trim(), fields[name].Trim(), fields[course].Trim());
            if (item.Validate() is { } invalid)
            {
                return ApiProblems.Invalid(invalid.Field, $"Row {row}: {invalid.Message} Nothing was issued.", row);
            }

            rows.Add((row, item));
        }

        // Every row is valid: now charge the quota for all rows at once (in row order); rows past it are refused, not fatal.
        var account = await AccountOf(context, db, cancellationToken);
        var decisions = await quota.ChargeManyAsync(account, rows.Select(r => r.Request.RecipientEmail!), cancellationToken);
        var results = new List<BulkRowResult>(rows.Count);
        var issued = new List<(int Row, Certificate Certificate)>();
        for (var n = 0; n < rows.Count; n++)
        {
            var (row, item) = rows[n];
            if (!decisions[n].IsAllowed)
            {
                results.Add(new BulkRowResult(row, "refused", null, "QUOTA_EXCEEDED", $"The monthly quota of {decisions[n].Limit} unique recipients is used up."));
                continue;
            }

            var certificate = NewCertificate(account, item, time);
            db.Certificates.Add(certificate);
            issued.Add((row, certificate));
            results.Add(new BulkRowResult(row, "issued", null, null, null));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch
        {
            // Nothing was issued: none of the recipients this upload charged may count.
            for (var n = 0; n < rows.Count; n++)
            {
                if (decisions[n].Outcome == QuotaOutcome.Charged)
                {
                    await quota.RefundAsync(account, rows[n].Request.RecipientEmail!, logger);
                }
            }

            throw;
        }

        var byRow = issued.ToDictionary(i => i.Row, i => CertificateResponse.From(i.Certificate));
        var answer = results.Select(r => byRow.TryGetValue(r.Row, out var c) ? r with { Certificate = c } : r).ToList();
        var usage = decisions.Count > 0 ? new QuotaUsage(decisions[^1].Limit, decisions[^1].Used, decisions[^1].ResetsAt) : await quota.UsageAsync(account, cancellationToken);
        RecipientQuota.WriteHeaders(context.Response, usage.Limit, usage.Remaining, usage.ResetsAt);
        return TypedResults.Ok(new BulkResult(issued.Count, answer.Count - issued.Count, answer));
    }

    private static IResult Malformed(int row, string message)
        => ApiProblems.Problem(StatusCodes.Status400BadRequest, "MALFORMED_CSV", "Malformed CSV", $"Row {row}: {message}. Nothing was issued.", new Dictionary<string, object?> { ["row"] = row });

    /// <summary>The body's bytes, or null when it is longer than <paramref name="max"/> bytes (checked before and while reading).</summary>
    private static Certificate NewCertificate(Account account, CertificateRequest request, TimeProvider time) => new()
    {
        AccountId = account.Id,
        RecipientEmail = request.RecipientEmail!.Trim(),
        RecipientName = request.RecipientName!.Trim(),
        Course = request.Course!.Trim(),
        IssuedAt = time.GetUtcNow(),
    };

    private static async Task<Account> AccountOf(HttpContext context, ServerDb db, CancellationToken cancellationToken)
    {
        var caller = ApiCaller.Of(context);
        return await db.Accounts.FirstAsync(a => a.Id == caller.AccountId, cancellationToken);
    }
}
