using System.Reflection;
using System.Text.RegularExpressions;

namespace Sluice.Testing;

/// <summary>
/// Reads <c>docs/configuration.md</c> so that tests can hold it to the options types: every public setting is
/// documented, and every setting a table names exists.
/// </summary>
public static partial class ConfigurationReference
{
    private static readonly Lazy<string> s_text = new(() =>
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "docs", "configuration.md")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(directory?.FullName ?? throw new FileNotFoundException("docs/configuration.md was not found above the test's directory."), "docs", "configuration.md"));
    });

    /// <summary>
    /// The text under the first heading that starts with <paramref name="heading"/> (e.g. <c>## `Sluice:Redis`</c>), up
    /// to the next heading of the same or a higher level.
    /// </summary>
    public static string Section(string heading)
    {
        var text = s_text.Value;
        var start = text.IndexOf("\n" + heading, StringComparison.Ordinal);
        if (start < 0)
        {
            throw new InvalidOperationException($"docs/configuration.md has no heading starting with \"{heading}\".");
        }

        var level = heading.TakeWhile(c => c == '#').Count();
        var next = Regex.Match(text[(start + 1)..], $"\n#{{1,{level}}} ");
        return next.Success ? text.Substring(start + 1, next.Index) : text[(start + 1)..];
    }

    /// <summary>The public settings of <paramref name="options"/>: properties with a public setter, or read-only collections and option groups.</summary>
    public static IEnumerable<PropertyInfo> Settings(Type options)
        => options.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && (p.SetMethod?.IsPublic == true || p.PropertyType != typeof(string) && !p.PropertyType.IsValueType));

    /// <summary>
    /// The settings of <paramref name="options"/> that <paramref name="section"/> never names in backticks, as
    /// <c>`Name`</c>, <c>`prefix:Name`</c>, a key under it (<c>`prefix:Name:Child`</c>) or the start of a code expression
    /// (<c>`Name["x"] = …`</c>).
    /// </summary>
    public static IReadOnlyList<string> Undocumented(Type options, string section, string prefix = "")
    {
        var tokens = Tokens(section).ToList();
        return Settings(options)
            .Select(p => p.Name)
            .Where(name => !tokens.Any(t => Names(t, prefix + name) || Names(t, name)))
            .Select(name => prefix + name)
            .ToList();
    }

    /// <summary>The backticked names in the first column of <paramref name="section"/>'s tables (a row may name several).</summary>
    public static IReadOnlyList<string> RowNames(string section, int column = 0)
        => section.Split('\n')
            .Where(line => line.StartsWith('|') && !line.StartsWith("|---", StringComparison.Ordinal))
            .Select(line => line.Split('|', StringSplitOptions.None))
            .Where(cells => cells.Length > column + 1)
            .SelectMany(cells => Tokens(cells[column + 1]))
            .ToList();

    private static bool Names(string token, string name)
        => token == name || (token.StartsWith(name, StringComparison.Ordinal) && token.Length > name.Length && !char.IsLetterOrDigit(token[name.Length]));

    /// <summary>
    /// Whether <paramref name="path"/> (<c>ClientIp:TrustedProxies</c>) names a setting of <paramref name="options"/>,
    /// walking nested option groups; a dictionary of sections ends the walk at its entry's name.
    /// </summary>
    public static bool Resolves(Type options, string path)
    {
        var type = options;
        var parts = path.Split(':');
        for (var i = 0; i < parts.Length; i++)
        {
            var property = Settings(type).FirstOrDefault(p => p.Name == parts[i]);
            if (property is null)
            {
                return false;
            }

            type = property.PropertyType;
            if (type.IsGenericType && type.GetGenericArguments() is [var key, var value] && key == typeof(string))
            {
                // Sluice:Layers:<name>:Key: skip the entry's name, go on in the entry's type.
                i++;
                type = value;
            }
        }

        return true;
    }

    private static IEnumerable<string> Tokens(string text) => Backticked().Matches(text).Select(m => m.Groups[1].Value);

    [GeneratedRegex("`([^`]+)`")]
    private static partial Regex Backticked();
}
