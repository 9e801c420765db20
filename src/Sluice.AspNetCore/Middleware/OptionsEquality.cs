using System.Collections;
using System.Reflection;

namespace Sluice.AspNetCore.Middleware;

/// <summary>
/// Whether two option objects say the same, by value: their properties compared recursively, lists in order,
/// dictionaries by key whatever their order, delegates by target and method. A configuration file saved once often
/// raises two change events; the second, equal to what is in force, is then not applied again.
/// </summary>
/// <remarks>
/// Errs towards "different": a value of a type it cannot compare (a capturing lambda built anew each time the options are
/// configured) makes the options differ, and they are applied as before.
/// </remarks>
internal static class OptionsEquality
{
    private const int MaxDepth = 8;

    public static bool Same(object? a, object? b) => Same(a, b, 0);

    private static bool Same(object? a, object? b, int depth)
    {
        if (ReferenceEquals(a, b))
        {
            return true;
        }

        if (a is null || b is null || a.GetType() != b.GetType() || depth > MaxDepth)
        {
            return false;
        }

        var type = a.GetType();
        if (type.IsValueType || a is string or Delegate)
        {
            return a.Equals(b);
        }

        if (a is IDictionary left && b is IDictionary right)
        {
            if (left.Count != right.Count)
            {
                return false;
            }

            foreach (DictionaryEntry entry in left)
            {
                if (!right.Contains(entry.Key) || !Same(entry.Value, right[entry.Key], depth + 1))
                {
                    return false;
                }
            }

            return true;
        }

        if (a is IEnumerable first && b is IEnumerable second)
        {
            var one = first.Cast<object?>().ToList();
            var other = second.Cast<object?>().ToList();
            return one.Count == other.Count && one.Zip(other).All(pair => Same(pair.First, pair.Second, depth + 1));
        }

        // Sluice's own option types also carry what binding found wrong (an unreadable value leaves the property as it
        // was) and their section's path: those count too.
        var flags = BindingFlags.Public | BindingFlags.Instance | (type.Assembly == typeof(SluiceOptions).Assembly ? BindingFlags.NonPublic : 0);
        foreach (var property in type.GetProperties(flags))
        {
            if (property.GetIndexParameters().Length == 0 && !Same(property.GetValue(a), property.GetValue(b), depth + 1))
            {
                return false;
            }
        }

        return true;
    }
}
