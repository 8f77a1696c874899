namespace AsyncQueue.Storage;

/// <summary>
/// Stands in for the job of a stored row that cannot be turned into its registered type: its kind has no handler, or
/// its payload does not deserialize. Such a job is dead-lettered at once, and its <see cref="DeadLetterEntry.Job"/> is
/// this, so the stored text can be inspected; it never becomes an instance of a type the data names.
/// </summary>
/// <param name="Kind">The stored kind.</param>
/// <param name="Payload">The stored payload text, as it is in the database.</param>
/// <param name="Reason">Why it cannot be read.</param>
public sealed record UnreadableJob(string Kind, string? Payload, string Reason);
