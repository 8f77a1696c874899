using System.Diagnostics;
using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// <c>--rabbitmq [ROUNDS] [--jobs N] [--single N] [--prefetch N] [--only TEXT]</c>: AsyncQueue.RabbitMQ against MassTransit.RabbitMQ and WolverineFx.RabbitMQ, with a bare RabbitMQ.Client loop as the broker's ceiling (<see cref="BareRabbitMqContender"/>), on
/// one throwaway broker on this machine, end to end (from the first enqueue until the last no-op handler ran), with
/// <see cref="Workers"/> workers and the same prefetch each (by default AsyncQueue.RabbitMQ's default,
/// <see cref="DefaultPrefetch"/>; <c>--prefetch 2</c> gives all a prefetch of the worker count), durable quorum
/// queues and publisher confirms for all. Each round runs every contender in a
/// rotating order, first with one awaited enqueue per job (<c>--single</c> jobs, by default a quarter of <c>--jobs</c>), then in batches of <see cref="Batch"/>; ROUNDS (default 5)
/// rounds, then the medians and ranges over rounds. <c>--only TEXT</c> runs only the contenders whose label contains
/// TEXT (for a profiler run of one of them; the ratios then need AsyncQueue.RabbitMQ and a peer).
/// </summary>
internal static class RabbitMqRun
{
    private const int Workers = 2;
    private const int Batch = 1_000;
    private const int DefaultJobs = 20_000;

    /// <summary>AsyncQueue.RabbitMQ's default <c>RabbitMqStoreOptions.PrefetchCount</c>, which the peers are given too.</summary>
    private static readonly int DefaultPrefetch = new RabbitMQ.RabbitMqStoreOptions().PrefetchCount;

    public static async Task<int> RunAsync(string[] args, TextWriter output)
    {
        var at = Array.IndexOf(args, "--rabbitmq");
        var rounds = at + 1 < args.Length && !args[at + 1].StartsWith("--", StringComparison.Ordinal) ? Cli.Int(args[at + 1], "--rabbitmq ROUNDS") : 5;
        var batched = Cli.Option(args, "--jobs") is { } jobs ? Cli.Int(jobs, "--jobs") : DefaultJobs;

        // One prefetch for all: AsyncQueue.RabbitMQ's default unless given (at least the worker count, as AsyncQueue makes it).
        var prefetch = (ushort)Math.Clamp(Cli.Option(args, "--prefetch") is { } count ? Cli.Int(count, "--prefetch") : DefaultPrefetch, Workers, ushort.MaxValue);

        // One enqueue awaited at a time waits a confirm round trip per job: fewer jobs keep a round short.
        var single = Cli.Option(args, "--single") is { } singles ? Cli.Int(singles, "--single") : Math.Max(1, batched / 4);
        if (!File.Exists(Path.Combine(ThrowawayRabbitMqServer.Scripts, "rabbitmq-server")))
        {
            output.WriteLine("RabbitMQ scenario NOT RUN: " + ThrowawayRabbitMqServer.MissingMessage);
            return 1;
        }

        await using var broker = await ThrowawayRabbitMqServer.StartAsync();
        var version = (await broker.CtlAsync("version")).Trim();
        output.WriteLine(Describe(await ReniceAsync(broker)));
        var amqp = new Uri(broker.Uri);
        IBatchContender[] all =
        [
            new AsyncQueueRabbitMqContender(broker.Uri, "aq-noop", Workers, prefetch),
            new MassTransitRabbitMqContender(amqp, "mt-noop", Workers, prefetch),
            new WolverineRabbitMqContender(amqp, "wolverine-noop", Workers, prefetch),

            // Not a peer: the broker's ceiling for one message per job (see the class), left out of "the faster peer".
            new BareRabbitMqContender(amqp, "bare-noop", Workers, prefetch),
        ];
        var peers = all[1..3];
        var bare = all[3];
        var only = Cli.Option(args, "--only");
        var contenders = only is null ? all : [.. all.Where(c => c.Label.Contains(only, StringComparison.OrdinalIgnoreCase))];
        if (contenders.Length == 0)
        {
            throw new UsageException($"--only {only} matches none of {string.Join(", ", all.Select(c => c.Label))}.");
        }

        var rates = contenders.ToDictionary(c => c.Label, _ => (Single: new List<double>(), Batched: new List<double>()));

        // CPU time per job of this process (the client) and of the broker's VM, per phase: on a shared machine the
        // throughput follows the load, while the work done per job is what a change to a client moves.
        var cpu = new CpuMeter(int.Parse((await File.ReadAllTextAsync(Path.Combine(broker.Folder, "pid"))).Trim(), CultureInfo.InvariantCulture));
        var costs = contenders.ToDictionary(c => c.Label, _ => (Single: new List<(double Client, double Broker)>(), Batched: new List<(double Client, double Broker)>()));
        try
        {
            foreach (var contender in contenders)
            {
                // Started and warmed up (connections, channels, JIT, the peers' code generation) before any measurement;
                // named as it goes, so that a contender that hangs is known.
                output.Write("warming up " + contender.Label + "...");
                var warming = Stopwatch.StartNew();
                await contender.StartAsync();
                await Drive.SteadyAsync(contender, Math.Min(single, 1_000));
                await BatchesAsync(contender, Math.Min(batched, 2 * Batch));
                output.WriteLine(string.Create(CultureInfo.InvariantCulture, $" {warming.Elapsed.TotalSeconds:N1} s"));
            }

            for (var round = 0; round < rounds; round++)
            {
                var line = string.Create(CultureInfo.InvariantCulture, $"round {round + 1}:");
                for (var i = 0; i < contenders.Length; i++)
                {
                    // A rotating order: no contender always runs first, or right after the same neighbour.
                    var contender = contenders[(i + round) % contenders.Length];
                    var before = cpu.Read();
                    var one = await Measure.TimeAsync(single, () => Drive.SteadyAsync(contender, single));
                    var between = cpu.Read();
                    var many = await Measure.TimeAsync(batched, () => BatchesAsync(contender, batched));
                    var after = cpu.Read();
                    costs[contender.Label].Single.Add(CpuMeter.PerJob(before, between, single));
                    costs[contender.Label].Batched.Add(CpuMeter.PerJob(between, after, batched));
                    rates[contender.Label].Single.Add(one.JobsPerSecond);
                    rates[contender.Label].Batched.Add(many.JobsPerSecond);
                    line += string.Create(CultureInfo.InvariantCulture, $"  {contender.Label} {one.JobsPerSecond:N0} / {many.JobsPerSecond:N0}");
                }

                output.WriteLine(line + "  (jobs/s single / batched)");
            }

            // What each contender's queue is on the broker, so that "quorum and durable for all" is seen, not assumed.
            output.WriteLine("queues (rabbitmqctl list_queues name type durable):");
            output.WriteLine((await broker.CtlAsync("list_queues", "name", "type", "durable", "--no-table-headers", "--quiet")).Trim());
        }
        finally
        {
            foreach (var contender in all)
            {
                await contender.DisposeAsync();
            }
        }

        output.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"RabbitMQ {version}, {Workers} workers, prefetch {prefetch} for all, no-op handler, {rounds} interleaved rounds; single EnqueueAsync ({single:N0} jobs) and batches of {Batch:N0} ({batched:N0} jobs); median jobs/s (range) end to end:"));
        foreach (var (label, (one, many)) in rates)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {label,-30} single {Spread(one)}   batched {Spread(many)}"));
        }

        output.WriteLine("CPU time per job, median (range) over rounds, in microseconds: client process / broker VM (the client process also holds the idle peers):");
        foreach (var (label, (one, many)) in costs)
        {
            output.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"  {label,-30} single {Spread(one.ConvertAll(c => c.Client))} / {Spread(one.ConvertAll(c => c.Broker))}   batched {Spread(many.ConvertAll(c => c.Client))} / {Spread(many.ConvertAll(c => c.Broker))}"));
        }

        var running = contenders.Intersect(peers).ToArray();
        if (running.Length == 0 || contenders[0] != all[0])
        {
            return 0;
        }

        var engine = rates[contenders[0].Label];
        output.WriteLine("  AsyncQueue.RabbitMQ divided by the faster peer in the same round, median (range); target 2x and 20,000 jobs/s:");
        output.WriteLine("    single  " + Ratios(engine.Single, round => running.Max(c => rates[c.Label].Single[round])));
        output.WriteLine("    batched " + Ratios(engine.Batched, round => running.Max(c => rates[c.Label].Batched[round])));
        if (rates.TryGetValue(bare.Label, out var ceiling))
        {
            // What the 2x target asks of the broker: bare / faster peer is the most any client of one message per job could reach.
            output.WriteLine("  The ceiling, RabbitMQ.Client bare (not a peer), in the same round, median (range):");
            output.WriteLine("    AsyncQueue.RabbitMQ / bare   single " + Ratios(engine.Single, round => ceiling.Single[round]) + "   batched " + Ratios(engine.Batched, round => ceiling.Batched[round]));
            output.WriteLine("    bare / faster peer           single " + Ratios(ceiling.Single, round => running.Max(c => rates[c.Label].Single[round])) + "   batched " + Ratios(ceiling.Batched, round => running.Max(c => rates[c.Label].Batched[round])));
        }

        return 0;
    }

    private static async Task BatchesAsync(IBatchContender contender, int jobs)
    {
        var done = contender.Completion.Expect(jobs);
        for (var first = 0; first < jobs; first += Batch)
        {
            // Fresh jobs per batch, as an application makes.
            var next = new Job[Math.Min(Batch, jobs - first)];
            for (var i = 0; i < next.Length; i++)
            {
                next[i] = new Job();
            }

            await contender.EnqueueBatchAsync(next);
        }

        await done.WaitAsync(Drive.Patience);
    }

    /// <summary>
    /// The test fixture starts the broker at nice 19, to spare a shared machine; here it competes with the client at
    /// the same priority, as a broker on the application's machine would. Every thread of the node's Erlang VM is
    /// reniced (a priority is per thread on Linux); returns what was done, for the output.
    /// </summary>
    private static async Task<string?> ReniceAsync(ThrowawayRabbitMqServer broker)
    {
        var pid = (await File.ReadAllTextAsync(Path.Combine(broker.Folder, "pid"))).Trim();
        var threads = Directory.GetDirectories($"/proc/{pid}/task").Select(Path.GetFileName).ToArray();
        var renice = new ProcessStartInfo("renice") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in (string?[])["-n", "0", "-p", .. threads])
        {
            renice.ArgumentList.Add(argument!);
        }

        using var process = Process.Start(renice)!;
        var errors = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? null : await errors;
    }

    private static string Describe(string? reniceError) => reniceError is null
        ? "broker reniced to 0 (the client's priority)"
        : "broker left at nice 19 (renice failed: " + reniceError.Trim() + "); its figures are then too low";

    private static string Spread(List<double> rates)
    {
        var sorted = rates.Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{Median(sorted),8:N0} ({sorted[0]:N0} to {sorted[^1]:N0})");
    }

    private static string Ratios(List<double> engine, Func<int, double> fasterPeer)
    {
        var ratios = engine.Select((rate, round) => rate / fasterPeer(round)).Order().ToArray();
        return string.Create(CultureInfo.InvariantCulture, $"{Median(ratios):N2}x ({ratios[0]:N2}x to {ratios[^1]:N2}x)");
    }

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}
