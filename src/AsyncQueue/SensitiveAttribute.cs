namespace AsyncQueue;

/// <summary>
/// Marks a job property that holds sensitive data (an address, a token, a personal detail). The queue never writes
/// job payloads to logs or traces; dead-letter views (<see cref="DeadLetterEntry.DescribeJob"/>,
/// <see cref="DeadLetterEntry.ToString"/>) show such a property as <c>***</c>.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
public sealed class SensitiveAttribute : Attribute;
