using System.Diagnostics.Metrics;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Diagnostics;

public sealed class MetricsTests
{
    /// <summary>Fails its first <paramref name="Failures"/> attempts.</summary>
    public sealed record Work(int Failures);

    public sealed class WorkHandler : IJobHandler<Work>
    {
        public Task HandleAsync(Work job, JobContext context, CancellationToken cancellationToken) =>
            context.Attempt <= job.Failures ? throw new InvalidOperationException("failing on purpose") : Task.CompletedTask;
    }

    /// <summary>Takes <paramref name="Seconds"/> of fake time.</summary>
    public sealed record Timed(int Seconds);

    public sealed class TimedHandler(TimeProvider time) : IJobHandler<Timed>
    {
        public Task HandleAsync(Timed job, JobContext context, CancellationToken cancellationToken)
        {
            ((FakeTimeProvider)time).Advance(TimeSpan.FromSeconds(job.Seconds));
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Histograms_FakeClock_MeasureWaitDurationAndEndToEndOnTheTimeProvider()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddMetrics();
            services.AddSingleton<TimeProvider>(time);
            queue.AddHandler<Timed, TimedHandler>(q => q.MaxConcurrency = 1);
        });
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var processing = new MetricCollector<double>(meters, "AsyncQueue", "messaging.process.duration");
        using var queueWait = new MetricCollector<double>(meters, "AsyncQueue", "asyncqueue.job.queue_wait");
        using var endToEnd = new MetricCollector<double>(meters, "AsyncQueue", "asyncqueue.job.end_to_end");

        // One worker: the second job waits while the first takes 3 s; the third is due 10 s after the enqueue.
        // The delayed job goes first: enqueued after the others, it would read a clock their handlers may already
        // have moved, and fall due later than the 4 s advanced below.
        await host.Queue.EnqueueAsync(new Timed(2), new EnqueueOptions { Delay = TimeSpan.FromSeconds(10) });
        await host.Queue.EnqueueBatchAsync([new Timed(3), new Timed(3)]);
        await Poll.UntilAsync(() => endToEnd.GetMeasurementSnapshot().Count == 2, "both ready jobs completed");
        time.Advance(TimeSpan.FromSeconds(4));
        await Poll.UntilAsync(() => endToEnd.GetMeasurementSnapshot().Count == 3 && processing.GetMeasurementSnapshot().Count == 3, "the delayed job completed");

        Assert.Equal([0.0, 3.0, 0.0], queueWait.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([3.0, 3.0, 2.0], processing.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.Equal([3.0, 6.0, 12.0], endToEnd.GetMeasurementSnapshot().Select(m => m.Value));
    }

    [Fact]
    public async Task Instruments_RunWithSuccessesRetriesAndDeadLetters_ReportEachOutcome()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddMetrics();
            queue.AddHandler<Work, WorkHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero);
                q.DeadLetterQueue = "work-dead";
            });
        });
        var meters = host.Services.GetRequiredService<IMeterFactory>();
        using var enqueued = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.enqueued");
        using var duplicates = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.duplicates");
        using var completed = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.completed");
        using var failed = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.failed_attempts");
        using var retried = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.retried");
        using var deadLettered = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.dead_lettered");
        using var processing = new MetricCollector<double>(meters, "AsyncQueue", "messaging.process.duration");
        using var queueWait = new MetricCollector<double>(meters, "AsyncQueue", "asyncqueue.job.queue_wait");
        using var endToEnd = new MetricCollector<double>(meters, "AsyncQueue", "asyncqueue.job.end_to_end");
        using var deadLetterSize = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.dead_letter.size");
        using var depth = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.queue.depth");

        // 3 succeed at once, 1 succeeds on its retry, 1 fails both attempts; and one duplicate enqueue.
        await host.Queue.EnqueueBatchAsync([new Work(0), new Work(0), new Work(0), new Work(1), new Work(2)]);
        await host.Queue.EnqueueAsync(new Work(0), new EnqueueOptions { IdempotencyKey = "once" });
        await host.Queue.EnqueueAsync(new Work(0), new EnqueueOptions { IdempotencyKey = "once" });
        await Poll.UntilAsync(() => Sum(completed) == 5 && Sum(deadLettered) == 1, "every job completed or was dead-lettered");

        Assert.Equal(6, Sum(enqueued));
        Assert.Equal(1, Sum(duplicates));
        Assert.Equal(3, Sum(failed));
        Assert.Equal(2, Sum(retried));
        Assert.Equal(8, processing.GetMeasurementSnapshot().Count);
        Assert.Equal(8, queueWait.GetMeasurementSnapshot().Count);
        Assert.Equal(5, endToEnd.GetMeasurementSnapshot().Count);
        Assert.All(processing.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("Work", m.Tags["messaging.destination.name"]);
            Assert.Equal("Work", m.Tags["asyncqueue.job.kind"]);
            Assert.Equal("asyncqueue", m.Tags["messaging.system"]);
            Assert.True(m.Value >= 0);
        });

        deadLetterSize.RecordObservableInstruments();
        depth.RecordObservableInstruments();
        Assert.Equal(1, deadLetterSize.LastMeasurement?.Value);
        Assert.Equal("work-dead", deadLetterSize.LastMeasurement?.Tags["messaging.destination.name"]);
        Assert.Equal(0, depth.LastMeasurement?.Value);
    }

    private static long Sum(MetricCollector<long> collector) => collector.GetMeasurementSnapshot().Sum(m => m.Value);
}
