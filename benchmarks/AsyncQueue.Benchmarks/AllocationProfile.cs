using System.Diagnostics.Tracing;
using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;
using AsyncQueue.Benchmarks.Scenarios;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// <c>--allocations [CONTENDER] [steady|backlog]</c>: which types a contender allocates per job, from the runtime's
/// allocation-tick events (one sample per ~100 KB allocated, so the per-type figures are estimates; the total is
/// exact). Answers "how many allocations per job beyond the job object" without an external profiler.
/// </summary>
internal static class AllocationProfile
{
    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--allocations");
        var kind = args.Length > at + 1 ? ContenderFactory.Parse(args[at + 1]) : ContenderKind.AsyncQueue;
        var scenario = args.Length > at + 2 ? Cli.Scenario(args[at + 2], "--allocations SCENARIO", "steady", "backlog") : "steady";
        const int Jobs = 2_000_000;
        const int Workers = 2;

        await using var contender = ContenderFactory.Create(kind, Workers);
        Task done = Task.CompletedTask;
        if (scenario == "steady")
        {
            await contender.StartAsync();
            await Drive.SteadyAsync(contender, Jobs / 10);
        }

        using var listener = new AllocationListener();
        var before = GC.GetTotalAllocatedBytes(precise: true);
        if (scenario == "steady")
        {
            await Drive.SteadyAsync(contender, Jobs);
        }
        else
        {
            // Backlog: the enqueues and the burn-down together.
            done = await Drive.PrefillAsync(contender, Jobs);
            await Drive.BurnDownAsync(contender, done);
        }

        var total = GC.GetTotalAllocatedBytes(precise: true) - before;
        listener.Dispose();

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{ContenderFactory.Label(kind)}, {scenario}, {Jobs:N0} jobs, {Workers} workers: {(double)total / Jobs:F1} bytes allocated per job (exact), by type (sampled):"));
        var sampled = listener.Bytes.Values.Sum();
        foreach (var (type, bytes) in listener.Bytes.OrderByDescending(p => p.Value).Take(15))
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {(double)bytes / sampled * total / Jobs,8:F1} B/job  {type}"));
        }

        return 0;
    }

    private sealed class AllocationListener : EventListener
    {
        public Dictionary<string, long> Bytes { get; } = [];

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
            {
                EnableEvents(eventSource, EventLevel.Verbose, (EventKeywords)0x1);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName?.StartsWith("GCAllocationTick", StringComparison.Ordinal) != true || eventData.Payload is null)
            {
                return;
            }

            var type = eventData.PayloadNames!.IndexOf("TypeName") is var t and >= 0 ? eventData.Payload[t] as string ?? "?" : "?";
            var amount = eventData.PayloadNames.IndexOf("AllocationAmount64") is var a and >= 0 ? Convert.ToInt64(eventData.Payload[a], CultureInfo.InvariantCulture) : 100_000;
            lock (Bytes)
            {
                Bytes[type] = Bytes.GetValueOrDefault(type) + amount;
            }
        }
    }
}
