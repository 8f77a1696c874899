namespace AsyncQueue;

/// <summary>
/// Gives a job type a stable kind name, stored with the job instead of its CLR type name, so that renaming or
/// moving the class does not orphan jobs already queued in a durable store.
/// </summary>
/// <param name="kind">The kind name, such as <c>"send-email"</c>.</param>
/// <remarks>Without this attribute a job's kind is its type's short name (<see cref="System.Reflection.MemberInfo.Name"/>).</remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct, Inherited = false)]
public sealed class JobKindAttribute(string kind) : Attribute
{
    /// <summary>Gets the kind name.</summary>
    public string Kind { get; } = kind;
}
