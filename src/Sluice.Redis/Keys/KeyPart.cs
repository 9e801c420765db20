namespace Sluice.Redis.Keys;

/// <summary>One name inside a Redis key of this package, written so that the first bare colon after it ends it.</summary>
internal static class KeyPart
{
    /// <summary>
    /// <paramref name="name"/> with <c>\</c> and <c>:</c> escaped by a backslash: quota <c>emails:daily</c> of subject
    /// <c>42</c> and quota <c>emails</c> of subject <c>daily:42</c> get two keys. A name without either character (every
    /// key written before this escaping) is unchanged.
    /// </summary>
    public static string Escaped(string name)
        => name.AsSpan().IndexOfAny('\\', ':') < 0 ? name : name.Replace("\\", "\\\\", StringComparison.Ordinal).Replace(":", "\\:", StringComparison.Ordinal);
}
