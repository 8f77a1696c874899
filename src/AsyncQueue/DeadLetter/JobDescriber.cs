using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Reflection;

namespace AsyncQueue.DeadLetter;

/// <summary>
/// Turns a registered job into text for display, with <see cref="SensitiveAttribute"/> properties redacted. Job types
/// are registered by <c>AddHandler</c>, whose generic parameter keeps their public properties under trimming.
/// </summary>
internal static class JobDescriber
{
    public const string Redacted = "***";

    private static readonly ConcurrentDictionary<Type, (string Name, PropertyInfo Property, bool Sensitive)[]> Describers = new();

    public static void Register<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicProperties)] TJob>() =>
        Describers.TryAdd(typeof(TJob), [.. typeof(TJob).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0)
            .Select(p => (p.Name, p, p.IsDefined(typeof(SensitiveAttribute), inherit: true)))]);

    /// <summary>Each public property's value as text, sensitive ones as <see cref="Redacted"/>; null for a type no handler registered.</summary>
    public static IReadOnlyDictionary<string, string?>? Describe(object job)
    {
        if (!Describers.TryGetValue(job.GetType(), out var properties))
        {
            return null;
        }

        var description = new Dictionary<string, string?>(properties.Length, StringComparer.Ordinal);
        foreach (var (name, property, sensitive) in properties)
        {
            description[name] = sensitive ? Redacted : Convert.ToString(property.GetValue(job), CultureInfo.InvariantCulture);
        }

        return description;
    }
}
