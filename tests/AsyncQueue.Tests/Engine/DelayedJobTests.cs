using System.Diagnostics;
using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

using AsyncQueue.Tests.Storage;

namespace AsyncQueue.Tests.Engine;

public sealed class DelayedJobTests
{
    private static readonly DateTimeOffset Start = new(2026, 7, 1, 0, 0, 0, TimeSpan.Zero);

    public sealed record Reminder(int Number, DateTimeOffset Due);

    public sealed class Ledger(int jobs)
    {
        private int _early;

        public int[] Runs { get; } = new int[jobs];

        public Countdown Done { get; } = new(jobs);

        public int Early => Volatile.Read(ref _early);

        public void Ran(Reminder job, DateTimeOffset now)
        {
            if (now < job.Due)
            {
                Interlocked.Increment(ref _early);
            }

            Interlocked.Increment(ref Runs[job.Number]);
            Done.Signal();
        }
    }

    public sealed class ReminderHandler(TimeProvider time, Ledger ledger) : IJobHandler<Reminder>
    {
        public Task HandleAsync(Reminder job, JobContext context, CancellationToken cancellationToken)
        {
            ledger.Ran(job, time.GetUtcNow());
            return Task.CompletedTask;
        }
    }

    /// <summary>Counts the timers the queue asks for, to prove delayed jobs do not cost one each.</summary>
    private sealed class CountingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            Interlocked.Increment(ref _timers);
            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    [Fact]
    public async Task EnqueueAsync_HundredThousandDelayedJobs_AllRunNoneEarlyOnOneTimer()
    {
        const int Jobs = 100_000;
        var time = new CountingTimeProvider(Start);
        var ledger = new Ledger(Jobs);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(ledger);
            queue.AddHandler<Reminder, ReminderHandler>(q => q.MaxConcurrency = 4);
        });
        var store = host.Services.GetRequiredService<IJobStore>();
        var threadsBefore = Process.GetCurrentProcess().Threads.Count;
        var timersBefore = time.Timers;

        // Scattered over a day, to the second, in a seeded order; half by Delay, half by NotBefore.
        var random = new Random(2026);
        for (var i = 0; i < Jobs; i++)
        {
            var delay = TimeSpan.FromSeconds(random.Next(1, 86_400));
            var options = i % 2 == 0 ? new EnqueueOptions { Delay = delay } : new EnqueueOptions { NotBefore = Start + delay };
            await host.Queue.EnqueueAsync(new Reminder(i, Start + delay), options);
        }

        Assert.Equal(Jobs, store.CountScheduled(nameof(Reminder)));
        Assert.Equal(0, store.CountWaiting(nameof(Reminder)));
        for (var minute = 0; minute < 24 * 60; minute++)
        {
            time.Advance(TimeSpan.FromMinutes(1));
        }

        await ledger.Done.WaitAsync();
        Assert.All(ledger.Runs, runs => Assert.Equal(1, runs));
        Assert.Equal(0, ledger.Early);
        Assert.Equal(0, time.Timers - timersBefore);
        Assert.InRange(Process.GetCurrentProcess().Threads.Count - threadsBefore, int.MinValue, 32);
    }

    [Fact]
    public void Delay_Negative_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new EnqueueOptions { Delay = TimeSpan.FromSeconds(-1) });

        Assert.Equal("Delay", error.ParamName);
    }

    [Fact]
    public async Task EnqueueAsync_DelayAndNotBeforeBoth_ThrowsNamingBoth()
    {
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(new Ledger(1));
            queue.AddHandler<Reminder, ReminderHandler>();
        });

        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            host.Queue.EnqueueAsync(new Reminder(0, Start), new EnqueueOptions { Delay = TimeSpan.FromSeconds(1), NotBefore = Start }).AsTask());

        Assert.Contains("Delay and EnqueueOptions.NotBefore", error.Message, StringComparison.Ordinal);
    }
}
