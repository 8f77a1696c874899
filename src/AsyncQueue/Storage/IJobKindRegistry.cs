using System.Diagnostics.CodeAnalysis;

namespace AsyncQueue.Storage;

/// <summary>
/// The job kinds and queues the application registered, for stores that persist jobs: a store deserializes a
/// stored payload only into the type registered for its kind, never into a type named by the data.
/// Resolve it from DI.
/// </summary>
public interface IJobKindRegistry
{
    /// <summary>Gets the names of every configured queue.</summary>
    IReadOnlyList<string> QueueNames { get; }

    /// <summary>Finds the job type registered for a kind.</summary>
    /// <param name="kind">The stored kind name.</param>
    /// <param name="jobType">The registered job type, when found.</param>
    /// <returns><see langword="true"/> when a handler is registered for the kind.</returns>
    bool TryGetJobType(string kind, [NotNullWhen(true)] out Type? jobType);
}
