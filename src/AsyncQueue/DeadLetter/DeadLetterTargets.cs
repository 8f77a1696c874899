using System.Collections.Frozen;
using AsyncQueue.Engine;
using AsyncQueue.Storage;
using Microsoft.Extensions.Options;

namespace AsyncQueue.DeadLetter;

/// <summary>
/// Where each queue's failed jobs go: the one place the dead-letter rule lives (a queue's
/// <see cref="QueueOptions.DeadLetterQueue"/>, or its name with <c>-dead-letter</c>).
/// </summary>
internal sealed class DeadLetterTargets
{
    private readonly FrozenDictionary<string, DeadLetterTarget> _byQueue;

    public DeadLetterTargets(JobRegistry registry, IOptionsMonitor<QueueOptions> queueOptions)
    {
        _byQueue = registry.QueueNames.ToFrozenDictionary(queue => queue, queue => For(queue, queueOptions.Get(queue)), StringComparer.Ordinal);
        Names = [.. _byQueue.Values.Select(t => t.Name).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>Gets the names of every dead-letter queue a configured queue sends its failed jobs to.</summary>
    public IReadOnlyList<string> Names { get; }

    public DeadLetterTarget Of(string queue) => _byQueue.TryGetValue(queue, out var target) ? target : throw new QueueNotConfiguredException(queue);

    /// <summary>Throws, naming the known ones, when no configured queue sends its failed jobs to <paramref name="deadLetterQueue"/>.</summary>
    public void CheckKnown(string deadLetterQueue)
    {
        ArgumentException.ThrowIfNullOrEmpty(deadLetterQueue);
        if (!Names.Contains(deadLetterQueue, StringComparer.Ordinal))
        {
            throw new ArgumentException(
                $"No queue sends its failed jobs to a dead-letter queue named '{deadLetterQueue}'; the dead-letter queues are: {string.Join(", ", Names.Select(n => "'" + n + "'"))}. A queue's dead-letter queue is its QueueOptions.DeadLetterQueue, or its name followed by '-dead-letter'.",
                nameof(deadLetterQueue));
        }
    }

    private static DeadLetterTarget For(string queue, QueueOptions options) =>
        new(options.DeadLetterQueue ?? queue + "-dead-letter", options.DeadLetterRetention, options.DeadLetterCapacity);
}
