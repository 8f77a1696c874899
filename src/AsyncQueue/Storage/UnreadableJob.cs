namespace AsyncQueue.Storage;

/// <summary>
/// Stands in for the job of a stored row that cannot be turned into its registered type: its kind has no handler, or
/// its payload does not deserialize. A store hands such a job out like any other; the dispatcher dead-letters it at
/// once, with <see cref="Reason"/> as its error, and its <see cref="DeadLetterEntry.Job"/> is this, so the stored text
/// can be inspected. It never becomes an instance of a type the data names.
/// </summary>
/// <param name="Kind">The stored kind.</param>
/// <param name="Payload">The stored payload text, as it is in the store.</param>
/// <param name="Reason">Why it cannot be read.</param>
/// <param name="ErrorType">The name of the error behind <paramref name="Reason"/>, for example the deserializer's exception type.</param>
public sealed record UnreadableJob(string Kind, string? Payload, string Reason, string ErrorType);
