using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text;
using Xunit;

namespace Sluice.Testing;

/// <summary>
/// The public surface of a library assembly as text, one line per type and member, held to the reviewed copy in
/// <c>api/&lt;assembly&gt;.txt</c>: a change to what users can call shows up in review as a change of that file.
/// Set <c>SLUICE_UPDATE_API=1</c> to write the current surface there instead of comparing (never under <c>CI=true</c>).
/// </summary>
public static class PublicApi
{
    private static readonly Dictionary<Type, string> s_keywords = new()
    {
        [typeof(bool)] = "bool", [typeof(byte)] = "byte", [typeof(char)] = "char", [typeof(decimal)] = "decimal",
        [typeof(double)] = "double", [typeof(float)] = "float", [typeof(int)] = "int", [typeof(long)] = "long",
        [typeof(object)] = "object", [typeof(short)] = "short", [typeof(string)] = "string", [typeof(uint)] = "uint",
        [typeof(ulong)] = "ulong", [typeof(void)] = "void",
    };

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Compares <paramref name="assembly"/>'s surface with its file; the failure names the lines that differ.</summary>
    public static void AssertReviewed(Assembly assembly)
    {
        var name = assembly.GetName().Name!;
        var path = Path.Combine(RepositoryRoot(), "api", name + ".txt");
        var current = Describe(assembly);
        if (Environment.GetEnvironmentVariable("SLUICE_UPDATE_API") == "1" && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, current);
            return;
        }

        var reviewed = File.Exists(path) ? File.ReadAllText(path).ReplaceLineEndings("\n") : string.Empty;
        var added = Lines(current).Except(Lines(reviewed)).ToList();
        var removed = Lines(reviewed).Except(Lines(current)).ToList();
        Assert.True(
            added.Count == 0 && removed.Count == 0,
            $"The public API of {name} differs from api/{name}.txt. Review the change, then run the tests with SLUICE_UPDATE_API=1 to record it.\n"
            + string.Concat(added.Select(l => "+ " + l + "\n")) + string.Concat(removed.Select(l => "- " + l + "\n")));
    }

    /// <summary>Every public type of the assembly and its public and protected members, sorted, one per line.</summary>
    public static string Describe(Assembly assembly)
    {
        var text = new StringBuilder();
        foreach (var type in assembly.GetExportedTypes().OrderBy(t => t.FullName, StringComparer.Ordinal))
        {
            text.Append(TypeLine(type)).Append('\n');
            foreach (var member in Members(type).Order(StringComparer.Ordinal))
            {
                text.Append("  ").Append(member).Append('\n');
            }
        }

        return text.ToString();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sluice.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new DirectoryNotFoundException("No Sluice.slnx above the test's directory.");
    }

    private static IEnumerable<string> Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private static string TypeLine(Type type)
    {
        var kind = type.IsEnum ? "enum" : type.IsInterface ? "interface" : type.IsValueType ? (type.IsDefined(typeof(IsReadOnlyAttribute)) ? "readonly struct" : "struct")
            : typeof(Delegate).IsAssignableFrom(type) ? "delegate"
            : type.IsAbstract && type.IsSealed ? "static class" : type.IsAbstract ? "abstract class" : type.IsSealed ? "sealed class" : "class";
        var bases = new List<string>();
        if (type.BaseType is { } baseType && baseType != typeof(object) && baseType != typeof(ValueType) && baseType != typeof(Enum))
        {
            bases.Add(Name(baseType));
        }

        bases.AddRange(type.GetInterfaces().Where(i => i.IsPublic || i.IsNestedPublic).Select(Name).Order(StringComparer.Ordinal));
        return $"{kind} {Name(type, full: true)}{(bases.Count > 0 ? " : " + string.Join(", ", bases) : string.Empty)}";
    }

    private static IEnumerable<string> Members(Type type)
    {
        var nullability = new NullabilityInfoContext();
        foreach (var member in type.GetMembers(Declared))
        {
            switch (member)
            {
                case ConstructorInfo c when Visible(c):
                    yield return $"{Access(c)}ctor({Parameters(c, nullability)})";
                    break;
                case MethodInfo m when Visible(m) && !m.IsSpecialName:
                    yield return $"{Access(m)}{Modifiers(m)}{Type(m.ReturnType, nullability.Create(m.ReturnParameter))} {m.Name}{Generics(m)}({Parameters(m, nullability)})";
                    break;
                case MethodInfo m when Visible(m) && m.Name.StartsWith("op_", StringComparison.Ordinal):
                    yield return $"{Access(m)}operator {m.Name}({Parameters(m, nullability)})";
                    break;
                case PropertyInfo p when (p.GetMethod ?? p.SetMethod) is { } accessor && Visible(accessor):
                    var init = p.SetMethod?.ReturnParameter.GetRequiredCustomModifiers().Contains(typeof(IsExternalInit)) == true;
                    var accessors = (p.GetMethod is { } g && Visible(g) ? "get; " : string.Empty)
                        + (p.SetMethod is { } s && Visible(s) ? (init ? "init; " : "set; ") : string.Empty);
                    var indexer = p.GetIndexParameters() is { Length: > 0 } index ? "this[" + string.Join(", ", index.Select(i => Type(i.ParameterType, nullability.Create(i)) + " " + i.Name)) + "]" : p.Name;
                    yield return $"{Access(accessor)}{Modifiers(accessor)}{Type(p.PropertyType, nullability.Create(p))} {indexer} {{ {accessors}}}";
                    break;
                case FieldInfo f when f.IsPublic || f.IsFamily || f.IsFamilyOrAssembly:
                    if (type.IsEnum)
                    {
                        if (f.IsStatic)
                        {
                            yield return $"{f.Name} = {Convert.ToInt64(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture)}";
                        }
                    }
                    else
                    {
                        var constant = f.IsLiteral ? $"const {Type(f.FieldType, null)} {f.Name} = {(f.GetRawConstantValue() is string text ? $"\"{text}\"" : Convert.ToString(f.GetRawConstantValue(), System.Globalization.CultureInfo.InvariantCulture))}" : $"{(f.IsStatic ? "static " : string.Empty)}{(f.IsInitOnly ? "readonly " : string.Empty)}{Type(f.FieldType, nullability.Create(f))} {f.Name}";
                        yield return (f.IsFamily ? "protected " : string.Empty) + constant;
                    }

                    break;
                case EventInfo e when e.AddMethod is { } add && Visible(add):
                    yield return $"event {Type(e.EventHandlerType!, nullability.Create(e))} {e.Name}";
                    break;
            }
        }
    }

    private static bool Visible(MethodBase method) => method.IsPublic || method.IsFamily || method.IsFamilyOrAssembly;

    private static string Access(MethodBase method) => method.IsPublic ? string.Empty : "protected ";

    private static string Modifiers(MethodInfo method)
    {
        if (method.IsStatic)
        {
            return "static ";
        }

        if (method.IsAbstract)
        {
            return method.DeclaringType!.IsInterface ? string.Empty : "abstract ";
        }

        if (method.IsVirtual && !method.IsFinal)
        {
            return method.GetBaseDefinition() != method ? "override " : "virtual ";
        }

        return method.IsVirtual && method.GetBaseDefinition() != method ? "override " : string.Empty;
    }

    private static string Generics(MethodInfo method) => method.IsGenericMethodDefinition ? "<" + string.Join(", ", method.GetGenericArguments().Select(a => a.Name)) + ">" : string.Empty;

    private static string Parameters(MethodBase method, NullabilityInfoContext nullability) => string.Join(", ", method.GetParameters().Select(p =>
    {
        var prefix = p.Position == 0 && method.IsDefined(typeof(ExtensionAttribute)) ? "this " : string.Empty;
        prefix += p.IsDefined(typeof(ParamArrayAttribute)) || p.IsDefined(typeof(ParamCollectionAttribute)) ? "params "
            : p.ParameterType.IsByRef ? (p.IsOut ? "out " : p.IsIn ? "in " : "ref ") : string.Empty;
        var type = p.ParameterType.IsByRef ? p.ParameterType.GetElementType()! : p.ParameterType;
        var defaultValue = p.HasDefaultValue ? " = " + (p.DefaultValue is null ? (type.IsValueType && Nullable.GetUnderlyingType(type) is null ? "default" : "null") : p.DefaultValue is string s ? $"\"{s}\"" : p.DefaultValue is bool b ? (b ? "true" : "false") : Convert.ToString(p.DefaultValue, System.Globalization.CultureInfo.InvariantCulture)) : string.Empty;
        return $"{prefix}{Type(type, p.ParameterType.IsByRef ? null : nullability.Create(p))} {p.Name}{defaultValue}";
    }));

    private static string Type(Type type, NullabilityInfo? nullability)
    {
        var name = Name(type, nullability: nullability);
        return !type.IsValueType && nullability?.ReadState == NullabilityState.Nullable ? name + "?" : name;
    }

    private static string Name(Type type) => Name(type, full: false);

    private static string Name(Type type, bool full = false, NullabilityInfo? nullability = null)
    {
        if (s_keywords.TryGetValue(type, out var keyword))
        {
            return keyword;
        }

        if (Nullable.GetUnderlyingType(type) is { } underlying)
        {
            return Name(underlying) + "?";
        }

        if (type.IsArray)
        {
            var element = nullability?.ElementType;
            var elementName = Name(type.GetElementType()!, nullability: element);
            var nullableElement = element?.ReadState == NullabilityState.Nullable && !type.GetElementType()!.IsValueType ? "?" : string.Empty;
            return elementName + nullableElement + "[" + new string(',', type.GetArrayRank() - 1) + "]";
        }

        if (type.IsGenericParameter)
        {
            return type.Name;
        }

        var simple = type.Name;
        var tick = simple.IndexOf('`', StringComparison.Ordinal);
        simple = tick >= 0 ? simple[..tick] : simple;
        if (type.IsNested)
        {
            simple = Name(type.DeclaringType!, full) + "." + simple;
        }
        else if (full && type.Namespace is { } ns)
        {
            simple = ns + "." + simple;
        }
        else if (type.Namespace is { } other && !other.StartsWith("Sluice", StringComparison.Ordinal) && !full)
        {
            simple = other + "." + simple;
        }

        if (!type.IsGenericType)
        {
            return simple;
        }

        var arguments = type.GetGenericArguments();
        var names = arguments.Select((a, i) =>
        {
            var argument = nullability is { GenericTypeArguments.Length: > 0 } n && i < n.GenericTypeArguments.Length ? n.GenericTypeArguments[i] : null;
            return Type(a, argument);
        });
        return simple + "<" + string.Join(", ", names) + ">";
    }
}
