using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Tests.Engine;

public sealed class DispatchTests
{
    public sealed record Numbered(int Number);

    public sealed class Probe
    {
        private int _running;
        private int _maxRunning;

        public Probe(int jobs)
        {
            Seen = new int[jobs];
            Done = new Countdown(jobs);
        }

        public int[] Seen { get; }

        public Countdown Done { get; }

        public List<int> Order { get; } = [];

        public int MaxRunning => Volatile.Read(ref _maxRunning);

        public TaskCompletionSource ThreeRunning { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Enter()
        {
            var running = Interlocked.Increment(ref _running);
            int max;
            while (running > (max = Volatile.Read(ref _maxRunning)) && Interlocked.CompareExchange(ref _maxRunning, running, max) != max)
            {
            }

            if (running == 3)
            {
                ThreeRunning.TrySetResult();
            }
        }

        public void Exit() => Interlocked.Decrement(ref _running);
    }

    public sealed class CountingHandler(Probe probe) : IJobHandler<Numbered>
    {
        public Task HandleAsync(Numbered job, JobContext context, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref probe.Seen[job.Number]);
            probe.Done.Signal();
            return Task.CompletedTask;
        }
    }

    public sealed class OverlapHandler(Probe probe) : IJobHandler<Numbered>
    {
        public async Task HandleAsync(Numbered job, JobContext context, CancellationToken cancellationToken)
        {
            probe.Enter();
            try
            {
                // The first jobs hold their slot until three run at once, which proves the limit is reached;
                // the rest yield so that handlers overlap and a fourth would be caught in MaxRunning.
                if (job.Number < 3)
                {
                    await probe.ThreeRunning.Task.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
                }
                else
                {
                    await Task.Yield();
                }
            }
            finally
            {
                probe.Exit();
            }

            probe.Done.Signal();
        }
    }

    public sealed class OrderHandler(Probe probe) : IJobHandler<Numbered>
    {
        public async Task HandleAsync(Numbered job, JobContext context, CancellationToken cancellationToken)
        {
            lock (probe.Order)
            {
                probe.Order.Add(job.Number);
            }

            // Completing asynchronously every few jobs makes the worker park and resume between jobs.
            if (job.Number % 7 == 0)
            {
                await Task.Yield();
            }

            probe.Done.Signal();
        }
    }

    [Fact]
    public async Task EnqueueAsync_EightProducersFourWorkers_HandlesEveryJobExactlyOnce()
    {
        const int Producers = 8;
        const int PerProducer = 100_000;
        var probe = new Probe(Producers * PerProducer);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(probe);
            queue.AddHandler<Numbered, CountingHandler>(q => q.MaxConcurrency = 4);
        });

        var producers = Enumerable.Range(0, Producers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < PerProducer; i++)
            {
                var result = await host.Queue.EnqueueAsync(new Numbered((p * PerProducer) + i));
                Assert.True(result.Accepted);
            }
        }));
        await Task.WhenAll(producers);
        await probe.Done.WaitAsync();

        Assert.All(probe.Seen, count => Assert.Equal(1, count));
    }

    [Fact]
    public async Task Workers_MaxConcurrencyThree_ReachThreeAndNeverExceedIt()
    {
        const int Jobs = 10_000;
        var probe = new Probe(Jobs);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(probe);
            queue.AddHandler<Numbered, OverlapHandler>(q => q.MaxConcurrency = 3);
        });

        await host.Queue.EnqueueBatchAsync(Enumerable.Range(0, Jobs).Select(i => new Numbered(i)));
        await probe.Done.WaitAsync();

        Assert.Equal(3, probe.MaxRunning);
    }

    [Fact]
    public async Task Workers_MaxConcurrencyOne_RunJobsInEnqueueOrder()
    {
        const int Jobs = 10_000;
        var probe = new Probe(Jobs);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(probe);
            queue.AddHandler<Numbered, OrderHandler>(q => q.MaxConcurrency = 1);
        });

        for (var i = 0; i < Jobs; i++)
        {
            await host.Queue.EnqueueAsync(new Numbered(i));
        }

        await probe.Done.WaitAsync();

        Assert.Equal(Enumerable.Range(0, Jobs), probe.Order);
    }

    [Fact]
    public async Task Workers_PingPongThroughParkedWorker_NeverLoseAWakeUp()
    {
        // Each job is enqueued only after the previous one ran, so the single worker parks before almost every
        // job: a lost wake-up between "queue is empty" and "worker is parked" would hang this test.
        const int Jobs = 20_000;
        var probe = new Probe(Jobs);
        var handled = new SemaphoreSlim(0);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(probe);
            services.AddSingleton(handled);
            queue.AddHandler<Numbered, PingHandler>(q => q.MaxConcurrency = 1);
        });

        for (var i = 0; i < Jobs; i++)
        {
            await host.Queue.EnqueueAsync(new Numbered(i));
            Assert.True(await handled.WaitAsync(TimeSpan.FromMinutes(1)), $"job {i} was never handled");
        }

        await probe.Done.WaitAsync();
        Assert.All(probe.Seen, count => Assert.Equal(1, count));
    }

    public sealed class PingHandler(Probe probe, SemaphoreSlim handled) : IJobHandler<Numbered>
    {
        public Task HandleAsync(Numbered job, JobContext context, CancellationToken cancellationToken)
        {
            probe.Seen[job.Number]++;
            probe.Done.Signal();
            handled.Release();
            return Task.CompletedTask;
        }
    }

    public sealed record Flaky(bool Fail);

    public sealed class FlakyHandler(Countdown done) : IJobHandler<Flaky>
    {
        public Task HandleAsync(Flaky job, JobContext context, CancellationToken cancellationToken)
        {
            done.Signal();
            return job.Fail ? throw new InvalidOperationException("handler failed on purpose") : Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Worker_HandlerThrows_KeepsRunningAndDeadLettersTheJobWithItsError()
    {
        var done = new Countdown(3);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(done);
            queue.AddHandler<Flaky, FlakyHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = RetryPolicy.None;
            });
        });

        var failed = await host.Queue.EnqueueAsync(new Flaky(Fail: true));
        await host.Queue.EnqueueAsync(new Flaky(Fail: false));
        await host.Queue.EnqueueAsync(new Flaky(Fail: false));
        await done.WaitAsync();

        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        var dead = Assert.Single(await deadLetters.ListAsync("Flaky-dead-letter"));
        Assert.Equal(failed.JobId, dead.JobId);
        var error = Assert.Single(dead.Errors);
        Assert.Equal(typeof(InvalidOperationException).FullName, error.ExceptionType);
        Assert.Equal("handler failed on purpose", error.Message);
        Assert.NotNull(error.StackTrace);
    }

    public sealed class ContextHandler(TaskCompletionSource<JobContext> seen) : IJobHandler<Numbered>
    {
        public Task HandleAsync(Numbered job, JobContext context, CancellationToken cancellationToken)
        {
            seen.SetResult(context);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Handler_ReceivesContextOfItsJob()
    {
        var seen = new TaskCompletionSource<JobContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(seen);
            queue.AddHandler<Numbered, ContextHandler>();
        });

        var result = await host.Queue.EnqueueAsync(new Numbered(1));
        var context = await seen.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(result.JobId, context.JobId);
        Assert.Equal(1, context.Attempt);
        Assert.Equal(nameof(Numbered), context.Queue);
        Assert.Equal(nameof(Numbered), context.Kind);
        Assert.Null(context.IdempotencyKey);
    }
}
