using System.Globalization;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// Scenario 3, "the full pipeline on": everything an application turns on, so that its cost is measured against
/// Channel&lt;T&gt; (the target is at least 0.5x). This is the one place to switch each part on.
/// </summary>
/// <remarks>
/// Turned on: the DI scope per job (<c>AddHandler</c> registers <see cref="NoOpHandler"/> scoped; the
/// <see cref="Contenders.ContenderKind.AsyncQueue"/> contender registers it as a singleton first to skip the scope),
/// a retry policy, an idempotency key per job, and metrics with a listener. Every scenario that runs the full
/// pipeline picks them up.
/// </remarks>
internal static class FullPipeline
{
    /// <summary>The parts <see cref="Without"/> may name.</summary>
    public static readonly IReadOnlyList<string> Parts = ["scope", "retry", "idempotency", "metrics"];

    /// <summary>
    /// Gets or sets the parts switched off (<c>--measure ... --without scope,metrics</c>, also <c>--interleave</c>), to
    /// measure what each one costs, in the full pipeline and its hand-built ceiling alike (the ceiling's try/catch stays
    /// without <c>retry</c>: it costs nothing while no job throws). Empty, so everything on, unless given.
    /// </summary>
    public static IReadOnlySet<string> Without { get; set; } = new HashSet<string>();

    /// <summary>Sets <see cref="Without"/> from <c>--without PART,...</c>, if given.</summary>
    /// <exception cref="UsageException">A part is not one of <see cref="Parts"/>.</exception>
    public static void ReadWithout(string[] args)
    {
        var without = Cli.Option(args, "--without")?.Split(',') ?? [];
        if (without.FirstOrDefault(part => !Parts.Contains(part)) is { } unknown)
        {
            throw new UsageException($"--without: '{unknown}' is not a part of the full pipeline; the parts are {string.Join(", ", Parts)}.");
        }

        Without = without.ToHashSet();
    }

    /// <summary>Gets a value indicating whether the per-job DI scope is on (the handler is registered scoped).</summary>
    public static bool ScopePerJob => !Without.Contains("scope");

    /// <summary>Turns every part of the pipeline on, for a queue whose handler <c>AddHandler</c> registered scoped.</summary>
    public static void Configure(IJobQueueBuilder builder)
    {
        if (!Without.Contains("retry"))
        {
            AddRetryPolicy(builder);
        }

        if (!Without.Contains("idempotency"))
        {
            AddIdempotency(builder);
        }

        if (!Without.Contains("metrics"))
        {
            AddMetrics(builder);
        }
    }

    /// <summary>The options each job of the full pipeline is enqueued with: a key unique to the job (none without idempotency).</summary>
    /// <remarks>
    /// Keys of succeeded jobs are retained (24 h, at most 1,000,000), so a key must be unique across a benchmark's
    /// invocations, not just within one: it comes from a per-contender sequence. The key string and the options
    /// object are allocated per job, as an application allocates them.
    /// </remarks>
    public static EnqueueOptions? EnqueueOptions(long sequence) =>
        Without.Contains("idempotency") ? null : new() { IdempotencyKey = string.Create(CultureInfo.InvariantCulture, $"job-{sequence}") };

    /// <summary>Three retries, exponential from 10 ms: no job fails here, so this measures the policy's presence.</summary>
    private static void AddRetryPolicy(IJobQueueBuilder builder) =>
        builder.ConfigureJob<Job>(job => job.Retry = RetryPolicy.Exponential(3, TimeSpan.FromMilliseconds(10)));

    /// <summary>
    /// Idempotency keys need no switch in the in-memory store (its <c>IIdempotencyStore</c> claims each key); the
    /// retention is set explicitly to its default so that the measured configuration is visible here.
    /// </summary>
    private static void AddIdempotency(IJobQueueBuilder builder) =>
        builder.Services.ConfigureAll<QueueOptions>(queue => queue.IdempotencyRetention = TimeSpan.FromHours(24));

    /// <summary>The queue's meter through <see cref="IMeterFactory"/>, with a listener that enables every instrument.</summary>
    private static void AddMetrics(IJobQueueBuilder builder)
    {
        builder.Services.AddMetrics();
        builder.Services.AddHostedService<PipelineMetrics>();
    }
}
