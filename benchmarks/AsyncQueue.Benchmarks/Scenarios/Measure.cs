using System.Diagnostics;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>Plain stopwatch measurements, for the quick mode and the latency scenario (BenchmarkDotNet does the full run).</summary>
public static class Measure
{
    /// <summary>
    /// One measured run: jobs per second, bytes allocated per job by the whole process, and thread-pool work items
    /// completed per 1,000 jobs (see <see cref="TimeAsync"/>).
    /// </summary>
    public readonly record struct Result(double JobsPerSecond, double BytesPerJob, double WakeUpsPerThousandJobs = 0);

    /// <summary>Steady producer against started workers: the best of <paramref name="runs"/> runs after one warm-up run.</summary>
    public static async Task<Result> SteadyAsync(IContender contender, int jobs, int runs)
    {
        await Drive.SteadyAsync(contender, jobs);
        await Drive.SteadyAsync(contender, jobs);
        var best = new Result(0, double.MaxValue);
        for (var run = 0; run < runs; run++)
        {
            var result = await TimeAsync(jobs, () => Drive.SteadyAsync(contender, jobs));
            best = Best(best, result);
        }

        return best;
    }

    /// <summary>Backlog burn-down: the best of <paramref name="runs"/> runs after one warm-up run, each with a fresh contender.</summary>
    public static async Task<Result> BacklogAsync(ContenderKind kind, int workers, int jobs, int runs)
    {
        var best = new Result(0, double.MaxValue);
        for (var run = -2; run < runs; run++)
        {
            await using var contender = ContenderFactory.Create(kind, workers);
            var done = await Drive.PrefillAsync(contender, jobs);
            var result = await TimeAsync(jobs, () => Drive.BurnDownAsync(contender, done));
            if (run >= 0)
            {
                best = Best(best, result);
            }
        }

        return best;
    }

    /// <summary>Enqueue only into a fresh queue with no running workers: the best of <paramref name="runs"/> runs after one warm-up run.</summary>
    public static async Task<Result> EnqueueAsync(ContenderKind kind, int producers, int jobs, int runs)
    {
        var best = new Result(0, double.MaxValue);
        for (var run = -2; run < runs; run++)
        {
            await using var contender = ContenderFactory.Create(kind, 1);
            var result = await TimeAsync(jobs, () => Drive.ProduceAsync(contender, jobs, producers));
            if (run >= 0)
            {
                best = Best(best, result);
            }
        }

        return best;
    }

    /// <summary>
    /// Times <paramref name="body"/> (after a full collection) and counts the bytes the process allocated meanwhile,
    /// and the thread-pool work items it completed: the wake-ups.
    /// </summary>
    /// <remarks>
    /// Why the work items: a worker that found its queue empty parks, and whoever wakes it queues its continuation to
    /// the thread pool, one work item per wake-up, for <c>Channel&lt;T&gt;</c>'s readers (continuations run
    /// asynchronously by default) and the engine's workers alike; the producer and a no-op handler complete
    /// synchronously and queue none. So the count is comparable across contenders without touching their code, and
    /// it shows a run whose workers parked and woke often (slower for every contender) beside its throughput. For a
    /// peer it also counts its own hand-offs through the pool.
    /// </remarks>
    public static async Task<Result> TimeAsync(int jobs, Func<Task> body)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        var workItems = ThreadPool.CompletedWorkItemCount;
        var start = Stopwatch.GetTimestamp();
        await body();
        var elapsed = Stopwatch.GetElapsedTime(start);
        workItems = ThreadPool.CompletedWorkItemCount - workItems;
        allocated = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        return new Result(jobs / elapsed.TotalSeconds, (double)allocated / jobs, workItems * 1000.0 / jobs);
    }

    /// <summary>The faster of two results.</summary>
    public static Result Best(Result a, Result b) => b.JobsPerSecond > a.JobsPerSecond ? b : a;
}
