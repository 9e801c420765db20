using System.CommandLine;

namespace Sluice.Cli.Http;

/// <summary>An option holding an absolute http(s) URL, refused at parse time with a clear message otherwise.</summary>
internal static class UrlOption
{
    public static Option<Uri> Create(string name, string description, bool recursive = false) => new(name)
    {
        Description = description,
        Required = true,
        Recursive = recursive,
        CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                return uri;
            }

            result.AddError($"{name} '{text}' is not an http:// or https:// URL.");
            return null;
        },
    };
}
