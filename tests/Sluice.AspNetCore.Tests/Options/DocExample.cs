namespace Sluice.AspNetCore.Tests.Options;

/// <summary>Configuration examples read from the repository's own documents, so that what a page shows is what a test runs.</summary>
internal static class DocExample
{
    /// <summary>The settings of the first <c>```json</c> block after <paramref name="heading"/> in <paramref name="document"/> (a path from the repository root).</summary>
    public static Dictionary<string, string?> Settings(string document, string heading)
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, document)))
        {
            directory = directory.Parent;
        }

        var text = File.ReadAllText(Path.Combine(directory!.FullName, document));
        var section = text[text.IndexOf(heading, StringComparison.Ordinal)..];
        var start = section.IndexOf("```json", StringComparison.Ordinal) + "```json".Length;
        var json = section[start..section.IndexOf("```", start, StringComparison.Ordinal)];
        using var stream = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(json));
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().AddJsonStream(stream).Build();
        return configuration.AsEnumerable().Where(p => p.Value is not null).ToDictionary(p => p.Key, p => p.Value);
    }
}
