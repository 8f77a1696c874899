using AsyncQueue.Benchmarks.Contenders;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 4, failure-heavy: a steady producer, and the first attempt of every tenth job throws
/// (<see cref="FlakyHandler"/>). AsyncQueue retries it through its policy, once, with zero delay
/// (<c>RetryPolicy.Fixed(1, TimeSpan.Zero)</c>): the failed job goes back to its queue and a worker takes it again.
/// The baseline is Channel&lt;T&gt; running the same handler, whose loop runs the second attempt in place.
/// </summary>
public static class FailureScenario
{
    /// <summary>A started-or-not contender of this scenario and the handler whose failures it counts.</summary>
    public sealed record Setup(IContender Contender, FlakyHandler Handler);

    /// <summary>One measured run: throughput (jobs, not attempts) and failed attempts retried per second.</summary>
    public readonly record struct Result(Measure.Result Jobs, double RetriesPerSecond);

    /// <summary>AsyncQueue with a singleton <see cref="FlakyHandler"/> and one zero-delay retry.</summary>
    public static Setup CreateAsyncQueue(int workers)
    {
        FlakyHandler? handler = null;
        var contender = new AsyncQueueContender((services, completion) =>
        {
            handler = new FlakyHandler(completion);

            // Registered before AddHandler: a singleton, so no DI scope per job (as in scenario 2's engine contender).
            services.AddSingleton(handler);
            services.AddSingleton<IJobHandler<Job>>(handler);
            services.AddJobQueue()
                .AddHandler<Job, FlakyHandler>(queue => queue.MaxConcurrency = workers)
                .ConfigureJob<Job>(job => job.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero));
        });
        return new Setup(contender, handler!);
    }

    /// <summary>The baseline: Channel&lt;T&gt; unbounded, the second attempt run in place.</summary>
    public static Setup CreateChannel(int workers)
    {
        var contender = new FlakyChannelContender(workers);
        return new Setup(contender, contender.Handler);
    }

    /// <summary>The best of <paramref name="runs"/> runs of <paramref name="jobs"/> jobs after two warm-up runs.</summary>
    public static async Task<Result> MeasureAsync(Setup setup, int jobs, int runs)
    {
        ArgumentNullException.ThrowIfNull(setup);
        await setup.Contender.StartAsync();
        await Drive.SteadyIndexedAsync(setup.Contender, jobs);
        await Drive.SteadyIndexedAsync(setup.Contender, jobs);
        var best = new Result(new Measure.Result(0, double.MaxValue), 0);
        for (var run = 0; run < runs; run++)
        {
            var failures = setup.Handler.Failures;
            var result = await Measure.TimeAsync(jobs, () => Drive.SteadyIndexedAsync(setup.Contender, jobs));
            var retries = setup.Handler.Failures - failures;
            if (retries != (jobs + 9) / 10)
            {
                throw new InvalidOperationException($"Scenario 4 expected {(jobs + 9) / 10} failed attempts, saw {retries}.");
            }

            if (result.JobsPerSecond > best.Jobs.JobsPerSecond)
            {
                best = new Result(result, retries * result.JobsPerSecond / jobs);
            }
        }

        return best;
    }
}
