namespace AsyncQueue.Engine;

/// <summary>Marks a queue name as configured, so that it gets workers. Added to DI by <c>AddHandler</c> and <c>ConfigureQueue</c>.</summary>
internal sealed record QueueDeclaration(string Name);
