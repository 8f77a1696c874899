using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Monitoring;

public sealed class RunningAttemptAgesTests
{
    public sealed record Held(int Number);

    /// <summary>Holds every job until the test releases it, like a handler that hangs.</summary>
    public sealed class HeldHandler(Gate gate) : IJobHandler<Held>
    {
        public async Task HandleAsync(Held job, JobContext context, CancellationToken cancellationToken)
        {
            gate.Entered.Release();
            await gate.Release.Task.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Releases the held jobs when the test ends, passed or failed, so the host's stop never waits for them.</summary>
    private sealed class Releaser(Gate gate) : IDisposable
    {
        public void Dispose() => gate.Release.TrySetResult();
    }

    public sealed class Gate
    {
        public SemaphoreSlim Entered { get; } = new(0);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    [Fact]
    public async Task LongestRunning_AttemptHeldWhileTheClockMoves_ReportsItsAgeThenZeroOnceItEnds()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var gate = new Gate();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddMetrics();
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(gate);
            queue.AddHandler<Held, HeldHandler>(q => q.MaxConcurrency = 2);
        });
        using var release = new Releaser(gate);
        var meters = host.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        using var longest = new MetricCollector<double>(meters, "AsyncQueue", "asyncqueue.job.longest_running");

        longest.RecordObservableInstruments();
        Assert.Equal(0, Assert.Single(longest.GetMeasurementSnapshot(clear: true)).Value);

        // One job starts, is first seen, and is seen again 5 minutes later; a second starts after 2 of them.
        await host.Queue.EnqueueAsync(new Held(1));
        Assert.True(await gate.Entered.WaitAsync(TimeSpan.FromMinutes(1)), "the first job started");
        longest.RecordObservableInstruments();
        time.Advance(TimeSpan.FromMinutes(2));
        await host.Queue.EnqueueAsync(new Held(2));
        Assert.True(await gate.Entered.WaitAsync(TimeSpan.FromMinutes(1)), "the second job started");
        longest.RecordObservableInstruments();
        time.Advance(TimeSpan.FromMinutes(3));
        longest.RecordObservableInstruments();

        var measurements = longest.GetMeasurementSnapshot(clear: true);
        Assert.Equal([0.0, 120.0, 300.0], measurements.Select(m => m.Value));
        Assert.All(measurements, m =>
        {
            Assert.Equal("Held", m.Tags["messaging.destination.name"]);
            Assert.Equal("asyncqueue", m.Tags["messaging.system"]);
        });

        gate.Release.TrySetResult();
        await host.Services.GetRequiredService<AsyncQueue.Monitoring.IJobQueueMonitor>().WaitForIdleAsync();
        longest.RecordObservableInstruments();
        Assert.Equal(0, longest.LastMeasurement!.Value);
    }
}
