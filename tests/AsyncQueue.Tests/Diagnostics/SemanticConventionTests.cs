using System.Collections.Concurrent;
using System.Diagnostics;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace AsyncQueue.Tests.Diagnostics;

/// <summary>The OpenTelemetry messaging semantic conventions (v1.37.0) on the queue's spans and instruments.</summary>
public sealed class SemanticConventionTests
{
    /// <summary>Every attempt of a job with <paramref name="Fail"/> set throws.</summary>
    public sealed record Convention(bool Fail);

    public sealed class ConventionHandler : IJobHandler<Convention>
    {
        public Task HandleAsync(Convention job, JobContext context, CancellationToken cancellationToken) =>
            job.Fail ? throw new InvalidOperationException("failing on purpose") : Task.CompletedTask;
    }

    /// <summary>Its own job type, so its queue (named after the kind) sets its spans apart from other tests'.</summary>
    public sealed record ConventionTraced(bool Fail);

    public sealed class ConventionTracedHandler : IJobHandler<ConventionTraced>
    {
        public Task HandleAsync(ConventionTraced job, JobContext context, CancellationToken cancellationToken) =>
            job.Fail ? throw new InvalidOperationException("failing on purpose") : Task.CompletedTask;
    }

    public sealed record Full(int Number);

    public sealed class FullHandler : IJobHandler<Full>
    {
        public Task HandleAsync(Full job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    [Fact]
    public async Task Spans_SingleAndBatchSendsThenFailedAttempts_CarryOperationNameBatchCountAndErrorType()
    {
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "AsyncQueue",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        await using var host = await TestHost.StartAsync((services, queue) =>
            queue.AddHandler<ConventionTraced, ConventionTracedHandler>(q => q.Retry = RetryPolicy.None));

        await host.Queue.EnqueueAsync(new ConventionTraced(Fail: false));
        await host.Queue.EnqueueBatchAsync([new ConventionTraced(Fail: false), new ConventionTraced(Fail: true), new ConventionTraced(Fail: false)]);
        var ours = () => spans.Where(s => Equals(s.GetTagItem("messaging.destination.name"), "ConventionTraced")).ToList();
        await Poll.UntilAsync(() => ours().Count(s => s.Kind == ActivityKind.Consumer) == 4, "every attempt's span ended");

        var sends = ours().Where(s => s.Kind == ActivityKind.Producer).ToList();
        Assert.Equal(2, sends.Count);
        Assert.All(sends, s => Assert.Equal("send", s.GetTagItem("messaging.operation.name")));
        Assert.Single(sends, s => s.GetTagItem("messaging.batch.message_count") is null);
        Assert.Single(sends, s => Equals(s.GetTagItem("messaging.batch.message_count"), 3));

        var attempts = ours().Where(s => s.Kind == ActivityKind.Consumer).ToList();
        Assert.All(attempts, s => Assert.Equal("process", s.GetTagItem("messaging.operation.name")));
        var failed = Assert.Single(attempts, s => s.Status == ActivityStatusCode.Error);
        Assert.Equal("System.InvalidOperationException", failed.GetTagItem("error.type"));
        Assert.All(attempts.Where(s => s != failed), s => Assert.Null(s.GetTagItem("error.type")));
    }

    [Fact]
    public async Task Instruments_SuccessesAndFailures_CarryOperationNameAndErrorTypeAndCountSentAndConsumed()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddMetrics();
            queue.AddHandler<Convention, ConventionHandler>(q => q.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero));
        });
        var meters = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var duration = new MetricCollector<double>(meters, "AsyncQueue", "messaging.process.duration");
        using var failedAttempts = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.failed_attempts");
        using var sent = new MetricCollector<long>(meters, "AsyncQueue", "messaging.client.sent.messages");
        using var consumed = new MetricCollector<long>(meters, "AsyncQueue", "messaging.client.consumed.messages");
        using var deadLettered = new MetricCollector<long>(meters, "AsyncQueue", "asyncqueue.job.dead_lettered");

        // 3 jobs succeed; 1 fails its two attempts. One of the successes is sent twice with one idempotency key.
        await host.Queue.EnqueueBatchAsync([new Convention(Fail: false), new Convention(Fail: true)]);
        await host.Queue.EnqueueAsync(new Convention(Fail: false));
        await host.Queue.EnqueueAsync(new Convention(Fail: false), new EnqueueOptions { IdempotencyKey = "once" });
        await host.Queue.EnqueueAsync(new Convention(Fail: false), new EnqueueOptions { IdempotencyKey = "once" });
        await Poll.UntilAsync(() => deadLettered.GetMeasurementSnapshot().Count == 1 && duration.GetMeasurementSnapshot().Count == 5, "every attempt was timed");

        var durations = duration.GetMeasurementSnapshot();
        Assert.All(durations, m => Assert.Equal("process", m.Tags["messaging.operation.name"]));
        Assert.Equal(2, durations.Count(m => Equals(m.Tags.GetValueOrDefault("error.type"), "System.InvalidOperationException")));
        Assert.Equal(3, durations.Count(m => !m.Tags.ContainsKey("error.type")));
        Assert.All(failedAttempts.GetMeasurementSnapshot(), m => Assert.Equal("System.InvalidOperationException", m.Tags["error.type"]));
        Assert.Equal(2, failedAttempts.GetMeasurementSnapshot().Sum(m => m.Value));

        // Sent: every job the store answered for, the refused duplicate too; consumed: every attempt.
        Assert.Equal(5, sent.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(sent.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("send", m.Tags["messaging.operation.name"]);
            Assert.Equal("Convention", m.Tags["messaging.destination.name"]);
            Assert.Equal("asyncqueue", m.Tags["messaging.system"]);
            Assert.False(m.Tags.ContainsKey("error.type"));
        });
        Assert.Equal(5, consumed.GetMeasurementSnapshot().Sum(m => m.Value));
        Assert.All(consumed.GetMeasurementSnapshot(), m =>
        {
            Assert.Equal("process", m.Tags["messaging.operation.name"]);
            Assert.Equal("Convention", m.Tags["messaging.destination.name"]);
        });
    }

    [Fact]
    public async Task SentMessages_StoreRefusesAJob_CountsItWithItsErrorType()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddMetrics();
            queue.AddHandler<Full, FullHandler>(q =>
            {
                q.Capacity = 1;
                q.FullMode = QueueFullMode.Throw;
            });
        });
        var meters = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var sent = new MetricCollector<long>(meters, "AsyncQueue", "messaging.client.sent.messages");

        // Paused, so the first job stays in the queue and fills it.
        await host.Queue.PauseAsync("Full");
        await host.Queue.EnqueueAsync(new Full(1));
        await Assert.ThrowsAsync<JobQueueFullException>(async () => await host.Queue.EnqueueAsync(new Full(2)));

        var measurements = sent.GetMeasurementSnapshot();
        Assert.Equal(2, measurements.Count);
        Assert.False(measurements[0].Tags.ContainsKey("error.type"));
        Assert.Equal(typeof(JobQueueFullException).FullName, measurements[1].Tags["error.type"]);
        await host.Queue.ResumeAsync("Full");
    }
}
