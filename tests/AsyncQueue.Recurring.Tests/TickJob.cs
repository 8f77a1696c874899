using System.Collections.Concurrent;
using System.Globalization;

namespace AsyncQueue.Recurring.Tests;

/// <summary>The recurring tests' job.</summary>
[JobKind("tick-job")]
public sealed record TickJob;

/// <summary>The ticks whose jobs ran, read from each job's idempotency key; <see langword="null"/> for a job without one (a trigger).</summary>
public sealed class TickRecorder
{
    private readonly ConcurrentQueue<DateTimeOffset?> _ticks = new();

    /// <summary>Gets the ticks whose jobs ran, in tick order: a queue's workers may run two due jobs in either order.</summary>
    public IReadOnlyList<DateTimeOffset?> Ticks => [.. _ticks.Order()];

    public void Record(string? idempotencyKey) => _ticks.Enqueue(idempotencyKey is null ? null : TickOf(idempotencyKey));

    /// <summary>The tick in a key "recurring:{name}:{tick}": the part after the last colon-separated name.</summary>
    public static DateTimeOffset TickOf(string key)
    {
        var parts = key.Split(':', 3);
        Assert.Equal("recurring", parts[0]);
        return DateTimeOffset.Parse(parts[2], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
    }
}

internal sealed class TickJobHandler(TickRecorder recorder) : IJobHandler<TickJob>
{
    public Task HandleAsync(TickJob job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Record(context.IdempotencyKey);
        return Task.CompletedTask;
    }
}
