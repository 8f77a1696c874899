using AsyncQueue.Benchmarks.Contenders;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 5, delayed jobs: 100,000 jobs enqueued with the same <c>NotBefore</c> a minute ahead (not measured),
/// then a <see cref="FakeTimeProvider"/> registered as the queue's <see cref="TimeProvider"/> is advanced once, so
/// all fall due at the same instant. Measured: from the advance (which fires the scheduler's one timer) to the last
/// handler run. The baseline: the same 100,000 ready-made jobs written at once to a Channel&lt;T&gt; with running
/// readers, until the last is handled.
/// </summary>
public static class DelayedScenario
{
    /// <summary>Jobs that fall due at once.</summary>
    public const int Jobs = 100_000;

    private static readonly TimeSpan Ahead = TimeSpan.FromMinutes(1);

    /// <summary>AsyncQueue (singleton handler) on a fake clock.</summary>
    public sealed class Engine : IAsyncDisposable
    {
        private readonly FakeTimeProvider _time = new();
        private readonly AsyncQueueContender _contender;

        public Engine(int workers) =>
            _contender = new AsyncQueueContender((services, completion) =>
            {
                services.AddSingleton<TimeProvider>(_time);
                services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
                services.AddJobQueue().AddHandler<Job, NoOpHandler>(queue => queue.MaxConcurrency = workers);
            });

        public Task StartAsync() => _contender.StartAsync();

        /// <summary>Not measured: enqueues <paramref name="jobs"/> jobs due a minute from the fake now.</summary>
        /// <returns>A task that completes when all have been handled.</returns>
        public async Task<Task> EnqueueDelayedAsync(int jobs)
        {
            var done = _contender.Completion.Expect(jobs);
            var options = new EnqueueOptions { NotBefore = _time.GetUtcNow() + Ahead };
            for (var i = 0; i < jobs; i++)
            {
                await _contender.Queue.EnqueueAsync(new Job(), options);
            }

            return done;
        }

        /// <summary>Measured: makes the jobs due and waits for the last handler.</summary>
        public async Task FallDueAsync(Task done)
        {
            _time.Advance(Ahead);
            await done.WaitAsync(Drive.Patience);
        }

        public ValueTask DisposeAsync() => _contender.DisposeAsync();
    }

    /// <summary>The baseline: Channel&lt;T&gt; unbounded with running readers.</summary>
    public sealed class Baseline(int workers) : IAsyncDisposable
    {
        private readonly ChannelContender _contender = new(workers, capacity: null);

        public Task StartAsync() => _contender.StartAsync();

        /// <summary>Not measured: the jobs, made ahead as the engine's were.</summary>
        public (Job[] Jobs, Task Done) Prepare(int jobs)
        {
            var batch = new Job[jobs];
            for (var i = 0; i < jobs; i++)
            {
                batch[i] = new Job();
            }

            return (batch, _contender.Completion.Expect(jobs));
        }

        /// <summary>Measured: writes them all and waits for the last handler.</summary>
        public async Task WriteAllAsync((Job[] Jobs, Task Done) prepared)
        {
            foreach (var job in prepared.Jobs)
            {
                var pending = _contender.EnqueueAsync(job);
                if (!pending.IsCompletedSuccessfully)
                {
                    await pending;
                }
            }

            await prepared.Done.WaitAsync(Drive.Patience);
        }

        public ValueTask DisposeAsync() => _contender.DisposeAsync();
    }

    /// <summary>The quick mode: best of <paramref name="runs"/> after two warm-up runs, for the engine and the baseline.</summary>
    public static async Task<(Measure.Result Engine, Measure.Result Channel)> MeasureAsync(int workers, int jobs, int runs)
    {
        var engine = new Measure.Result(0, double.MaxValue);
        await using (var queue = new Engine(workers))
        {
            await queue.StartAsync();
            for (var run = -2; run < runs; run++)
            {
                var done = await queue.EnqueueDelayedAsync(jobs);
                var result = await Measure.TimeAsync(jobs, () => queue.FallDueAsync(done));
                engine = run >= 0 ? Measure.Best(engine, result) : engine;
            }
        }

        var channel = new Measure.Result(0, double.MaxValue);
        await using (var baseline = new Baseline(workers))
        {
            await baseline.StartAsync();
            for (var run = -2; run < runs; run++)
            {
                var prepared = baseline.Prepare(jobs);
                var result = await Measure.TimeAsync(jobs, () => baseline.WriteAllAsync(prepared));
                channel = run >= 0 ? Measure.Best(channel, result) : channel;
            }
        }

        return (engine, channel);
    }
}
