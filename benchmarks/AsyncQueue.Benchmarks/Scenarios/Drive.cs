using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>The three ways the scenarios drive a contender; BenchmarkDotNet and the quick mode share them.</summary>
public static class Drive
{
    /// <summary>How long to wait for a contender before calling it stuck.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    /// <summary>Enqueues <paramref name="jobs"/> jobs from <paramref name="producers"/> threads at once.</summary>
    public static Task ProduceAsync(IContender contender, int jobs, int producers)
    {
        if (producers == 1)
        {
            return ProduceOneAsync(contender, jobs);
        }

        var tasks = new Task[producers];
        for (var p = 0; p < producers; p++)
        {
            var share = jobs / producers + (p < jobs % producers ? 1 : 0);
            tasks[p] = Task.Run(() => ProduceOneAsync(contender, share));
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Scenario 2, steady producer: one producer enqueues while the started workers run the jobs; returns when all are done.</summary>
    public static async Task SteadyAsync(IContender contender, int jobs)
    {
        var done = contender.Completion.Expect(jobs);
        await ProduceOneAsync(contender, jobs);
        await done.WaitAsync(Patience);
    }

    /// <summary>Scenario 4: <see cref="SteadyAsync"/> with each job's <see cref="Job.Index"/> set, which decides whether its first attempt fails.</summary>
    public static async Task SteadyIndexedAsync(IContender contender, int jobs)
    {
        var done = contender.Completion.Expect(jobs);
        for (var i = 0; i < jobs; i++)
        {
            var pending = contender.EnqueueAsync(new Job { Index = i });
            if (!pending.IsCompletedSuccessfully)
            {
                await pending;
            }
        }

        await done.WaitAsync(Patience);
    }

    /// <summary>The stores' batched scenario: one producer enqueues <paramref name="jobs"/> fresh jobs with <c>EnqueueBatchAsync</c>, <paramref name="batch"/> at a time; returns when all are done.</summary>
    internal static async Task SteadyBatchesAsync(AsyncQueueContender contender, int jobs, int batch)
    {
        var done = contender.Completion.Expect(jobs);
        for (var first = 0; first < jobs; first += batch)
        {
            var next = new Job[Math.Min(batch, jobs - first)];
            for (var i = 0; i < next.Length; i++)
            {
                next[i] = new Job();
            }

            await contender.Queue.EnqueueBatchAsync(next);
        }

        await done.WaitAsync(Patience);
    }

    /// <summary>Scenario 2, backlog, before the measurement: fills the backlog of a contender whose workers are not started.</summary>
    public static async Task<Task> PrefillAsync(IContender contender, int jobs)
    {
        var done = contender.Completion.Expect(jobs);
        await ProduceOneAsync(contender, jobs);
        return done;
    }

    /// <summary>Scenario 2, backlog, measured: starts the workers and waits until they have burned the backlog down.</summary>
    public static async Task BurnDownAsync(IContender contender, Task done)
    {
        await contender.StartAsync();
        await done.WaitAsync(Patience);
    }

    private static async Task ProduceOneAsync(IContender contender, int jobs)
    {
        for (var i = 0; i < jobs; i++)
        {
            // A fresh job per enqueue, as an application makes, in every contender alike.
            var pending = contender.EnqueueAsync(new Job());
            if (!pending.IsCompletedSuccessfully)
            {
                await pending;
            }
        }
    }
}
