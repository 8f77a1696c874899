namespace AsyncQueue.Testing;

/// <summary>The job the conformance suite enqueues.</summary>
/// <param name="Number">Tells the jobs apart.</param>
public sealed record ConformanceJob(int Number);
