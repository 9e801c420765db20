using System.ComponentModel;
using System.Reflection;
using Microsoft.Extensions.Configuration;

namespace Sluice.Configuration;

// Plain comments, not XML documentation: this file is compiled into several assemblies, and the OpenAPI generator
// reads every referenced assembly's XML documentation into one table, where a member documented twice is an error.

// Binds a configuration section to an options object as ConfigurationBinder.Bind does, except that a value
// that does not convert to its property's type (a word where a number or true/false goes) is left out
// and reported instead of stopping the bind at the first one: the caller lists every such value with the problems it
// finds afterwards, in one message. Shared as source by the packages that bind options.
internal static class LenientBinder
{
    // Binds section to options; returns one problem per value left out, and one per key that names no setting (a typo
    // the binder would ignore, leaving the setting at its default), except the child sections named in otherSections,
    // which other options own (Sluice:Redis under Sluice).
    public static List<string> Bind(IConfiguration section, object options, params string[] otherSections)
    {
        var problems = new List<string>();
        var skipped = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var root = (section as IConfigurationSection)?.Path;
        CheckChildren(section, options.GetType(), root, skipped, problems, otherSections);
        if (skipped.Count == 0)
        {
            section.Bind(options);
            return problems;
        }

        var kept = section.AsEnumerable(makePathsRelative: true).Where(p => p.Value is not null && !skipped.Contains(p.Key));
        new ConfigurationBuilder().AddInMemoryCollection(kept).Build().Bind(options);
        return problems;
    }

    private static void CheckChildren(IConfiguration section, Type type, string? root, HashSet<string> skipped, List<string> problems, string[]? otherSections = null)
    {
        foreach (var child in section.GetChildren())
        {
            var property = type.GetProperty(child.Key, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is not null)
            {
                Check(child, property.PropertyType, root, skipped, problems);
            }
            else if (otherSections is null || !otherSections.Contains(child.Key, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add(Unknown(child, type));
            }
        }
    }

    private static string Unknown(IConfigurationSection section, Type type)
    {
        var known = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => !IsCodeOnly(p.PropertyType))
            .Select(p => p.Name)
            .ToArray();
        // The closest by edit distance, or one the key begins (MaxBulk for MaxBulkItems).
        var closest = known.FirstOrDefault(name => name.StartsWith(section.Key, StringComparison.OrdinalIgnoreCase))
            ?? known.MinBy(name => Distance(name, section.Key));
        return closest is not null && (closest.StartsWith(section.Key, StringComparison.OrdinalIgnoreCase) || Distance(closest, section.Key) <= Math.Max(2, section.Key.Length / 3))
            ? $"{section.Path} is not a setting; did you mean {closest}?"
            : $"{section.Path} is not a setting; the settings here are {string.Join(", ", known)}.";
    }

    // A delegate, or a collection of them: set in code, never read from configuration.
    private static bool IsCodeOnly(Type type)
        => typeof(Delegate).IsAssignableFrom(type) || (ElementType(type) is { } element && typeof(Delegate).IsAssignableFrom(element));

    // Levenshtein distance, ignoring case.
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var same = char.ToUpperInvariant(a[i - 1]) == char.ToUpperInvariant(b[j - 1]);
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (same ? 0 : 1));
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static void Check(IConfigurationSection section, Type type, string? root, HashSet<string> skipped, List<string> problems)
    {
        var nullable = Nullable.GetUnderlyingType(type);
        var target = nullable ?? type;
        if (target == typeof(string) || target == typeof(object))
        {
            return;
        }

        if (IsCodeOnly(target))
        {
            problems.Add($"{section.Path} is set in code only (a delegate); configuration cannot set it.");
            return;
        }

        var converter = TypeDescriptor.GetConverter(target);
        if (converter.CanConvertFrom(typeof(string)))
        {
            if (section.Value is { } value && !(nullable is not null && value.Length == 0) && !Converts(converter, value))
            {
                problems.Add($"{section.Path} '{value}' is not {Describe(target)}.");
                skipped.Add(root is null ? section.Path : section.Path[(root.Length + 1)..]);
            }

            return;
        }

        if (ElementType(target) is { } element)
        {
            if (section.Value is { Length: > 0 } single && !IsDictionary(target))
            {
                // "Rates": "100/min" in JSON: one value where a list goes, which the binder would drop without a word.
                // "2/s, 15/min" is most likely meant as two items.
                var items = single.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                problems.Add($"{section.Path} '{single}' is a single value; write a list, such as [{string.Join(", ", items.Select(i => $"\"{i}\""))}].");
            }

            foreach (var item in section.GetChildren())
            {
                Check(item, element, root, skipped, problems);
            }

            return;
        }

        if (target.IsClass)
        {
            if (section.Value is { Length: > 0 } single)
            {
                problems.Add($"{section.Path} '{single}' is a single value; {section.Key} is a section of settings.");
            }

            CheckChildren(section, target, root, skipped, problems);
        }
    }

    private static bool Converts(TypeConverter converter, string value)
    {
        try
        {
            converter.ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or NotSupportedException or OverflowException or InvalidCastException)
        {
            return false;
        }
    }

    // The value type of a dictionary, or the element type of an array or list; null for anything else.
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        return Implemented(type, typeof(IDictionary<,>))?.GetGenericArguments()[1]
            ?? Implemented(type, typeof(IEnumerable<>))?.GetGenericArguments()[0];
    }

    private static bool IsDictionary(Type type) => Implemented(type, typeof(IDictionary<,>)) is not null;

    // The constructed form of the generic interface definition that type is or implements, or null.
    private static Type? Implemented(Type type, Type definition)
        => (type.IsInterface ? [type, .. type.GetInterfaces()] : type.GetInterfaces())
            .FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == definition);

    private static string Describe(Type type)
    {
        if (type == typeof(bool))
        {
            return "true or false";
        }

        if (type.IsEnum)
        {
            return "one of " + string.Join(", ", Enum.GetNames(type));
        }

        if (type == typeof(TimeSpan))
        {
            return "a time span such as 00:00:05";
        }

        return Type.GetTypeCode(type) switch
        {
            TypeCode.Byte or TypeCode.SByte or TypeCode.Int16 or TypeCode.UInt16 or TypeCode.Int32 or TypeCode.UInt32 or TypeCode.Int64 or TypeCode.UInt64 => "a whole number",
            TypeCode.Single or TypeCode.Double or TypeCode.Decimal => "a number",
            _ => $"a valid {type.Name}",
        };
    }
}
