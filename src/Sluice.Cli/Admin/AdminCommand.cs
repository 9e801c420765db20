using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace Sluice.Cli.Admin;

/// <summary><c>sluice admin</c>: the reference server's admin API (accounts, keys, per-key limits, quotas, usage).</summary>
internal static class AdminCommand
{
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var server = Http.UrlOption.Create("--server", "The server's base URL.", recursive: true);
        var token = new Option<string>("--token") { Description = "The admin token (Admin:Token).", Required = true, Recursive = true };
        var admin = new Command("admin", "Manage the reference server: accounts, keys, per-key limits, quotas and usage.") { server, token };

        var name = new Option<string>("--name") { Description = "The account's display name.", Required = true };
        var plan = new Option<string>("--plan") { Description = "A plan the server configures under Quotas:Plans (free, pro and enterprise by default).", DefaultValueFactory = _ => "free" };
        var account = new Option<long>("--account") { Description = "The account's id, as 'accounts create' printed it.", Required = true };
        var key = new Option<long>("--key") { Description = "The key's id (not its secret), as 'keys create' or 'usage' print it.", Required = true };
        var rates = new Option<string>("--rates") { Description = "Comma-separated, e.g. \"600/min\".", Required = true };
        var monthly = new Option<long?>("--monthly") { Description = "Unique recipients per month; omit to restore the plan's." };

        admin.Add(Group("accounts", "Accounts: each has a plan, its monthly quota and its API keys.", Leaf("create", "Create an account.", [name, plan], p => Call(p, server, token, HttpMethod.Post, "admin/accounts", new { name = p.GetValue(name), plan = p.GetValue(plan) }))));
        admin.Add(Group(
            "keys",
            "An account's API keys.",
            Leaf("create", "Create an API key for an account (its secret is shown once).", [account], p => Call(p, server, token, HttpMethod.Post, $"admin/accounts/{p.GetValue(account)}/keys", null)),
            Leaf("revoke", "Revoke a key at once.", [key], p => Call(p, server, token, HttpMethod.Delete, $"admin/keys/{p.GetValue(key)}", null))));
        admin.Add(Group(
            "limits",
            "Per-key rates of the api-key layer, changed at run time.",
            Leaf("set", "Replace a key's api-key rates.", [key, rates], p => Call(p, server, token, HttpMethod.Put, $"admin/keys/{p.GetValue(key)}/limits", new { rates = p.GetValue(rates)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) })),
            Leaf("reset", "Restore a key's default rates.", [key], p => Call(p, server, token, HttpMethod.Delete, $"admin/keys/{p.GetValue(key)}/limits", null))));
        admin.Add(Group("quota", "An account's monthly quota of unique recipients.", Leaf("set", "Set an account's monthly unique-recipient quota.", [account, monthly], p => Call(p, server, token, HttpMethod.Put, $"admin/accounts/{p.GetValue(account)}/quota", new { monthly_recipients = p.GetValue(monthly) }))));
        admin.Add(Leaf("usage", "An account's quota usage and each key's rate-limit windows.", [account], p => Call(p, server, token, HttpMethod.Get, $"admin/accounts/{p.GetValue(account)}/usage", null)));
        return admin;
    }

    private static Command Group(string name, string description, params Command[] children)
    {
        var group = new Command(name, description);
        foreach (var child in children)
        {
            group.Add(child);
        }

        return group;
    }

    private static Command Leaf(string name, string description, Option[] options, Func<ParseResult, Task<int>> action)
    {
        var command = new Command(name, description);
        foreach (var option in options)
        {
            command.Add(option);
        }

        command.SetAction(action);
        return command;
    }

    private static async Task<int> Call(ParseResult parse, Option<Uri> server, Option<string> token, HttpMethod method, string path, object? body)
    {
        using var http = new HttpClient { BaseAddress = WithSlash(parse.GetValue(server)!) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", parse.GetValue(token));
        using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        HttpResponseMessage response;
        string text;
        try
        {
            response = await http.SendAsync(request);
            text = await response.Content.ReadAsStringAsync();
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            // Unreachable, refused or too slow: one line, as for every other failure, never a stack trace.
            await Console.Error.WriteLineAsync($"The server at {http.BaseAddress} could not be reached: {e.Message}");
            return 1;
        }

        using var _ = response;
        var output = response.IsSuccessStatusCode ? Console.Out : Console.Error;
        await output.WriteLineAsync($"{(int)response.StatusCode} {response.ReasonPhrase}");
        if (text.Length > 0)
        {
            try
            {
                using var document = JsonDocument.Parse(text);
                await output.WriteLineAsync(JsonSerializer.Serialize(document.RootElement, Pretty));
            }
            catch (JsonException)
            {
                await output.WriteLineAsync(text);
            }
        }

        return response.IsSuccessStatusCode ? 0 : 1;
    }

    internal static Uri WithSlash(Uri uri) => uri.AbsoluteUri.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
}
