using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.TestWorker;

/// <summary>The job of the recurring schedule "tick".</summary>
[JobKind("recurring-tick")]
public sealed record RecurringTick;

/// <summary>Records each tick's run as "tick-in-Unix-seconds attempt", read from the job's idempotency key.</summary>
internal sealed class RecurringTickHandler(ResultsFile results) : IJobHandler<RecurringTick>
{
    private const string KeyPrefix = "recurring:tick:";

    public Task HandleAsync(RecurringTick job, JobContext context, CancellationToken cancellationToken)
    {
        var key = context.IdempotencyKey ?? throw new InvalidOperationException("A recurring tick's job has no idempotency key.");
        var tick = DateTimeOffset.Parse(key[KeyPrefix.Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        results.Append(checked((int)tick.ToUnixTimeSeconds()), context.Attempt);
        return Task.CompletedTask;
    }
}

internal static class RecurringCommand
{
    public static async Task<int> RunAsync(Arguments args)
    {
        using var results = new ResultsFile(args.Require("results"));
        var host = ChildHost.Build(
            StoreChoice.From(args),
            queue => queue
                .AddHandler<RecurringTick, RecurringTickHandler>()
                .AddRecurringJob("tick", args.Find("cron") ?? "* * * * * *", () => new RecurringTick()),
            services => services
                .AddSingleton(results)

                // The scheduler logs each tick it found enqueued already (by another process) at Debug: the test counts them.
                .AddLogging(logging => logging.AddFilter("AsyncQueue.Recurring", LogLevel.Debug)),
            shortLeases: false);

        await ChildHost.RunUntilInputClosesAsync(host);
        return 0;
    }
}
