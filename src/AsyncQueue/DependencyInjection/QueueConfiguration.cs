namespace AsyncQueue.DependencyInjection;

/// <summary>
/// One call that configured a queue (<c>AddHandler</c> or <c>ConfigureQueue</c>), kept in DI so that
/// <see cref="QueueConfigurationConflictValidator"/> can tell at start which calls disagree.
/// </summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Configure">The callback the call passed.</param>
/// <param name="Source">The call, as the error message names it: <c>AddHandler&lt;ProcessFile, ProcessFileHandler&gt;</c>.</param>
internal sealed record QueueConfiguration(string Queue, Action<QueueOptions> Configure, string Source);
