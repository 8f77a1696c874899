using System.Diagnostics;
using System.Globalization;
using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Scenario 6: hand-off latency, from just before the enqueue call until the handler starts, recorded per job with
/// <see cref="Stopwatch.GetTimestamp"/>, at about half of peak load.
/// </summary>
/// <remarks>
/// Every in-process contender is offered the same load: half of the lowest steady peak among them at that worker
/// count, so each runs at half of its own peak or less. A dedicated producer thread paces the jobs evenly
/// (spinning, so the pacing costs no timer resolution); it occupies one of the machine's cores, as a busy web server
/// would. The peers, far slower, are each offered half of their own peak. BenchmarkDotNet measures durations, not
/// per-job distributions, so this scenario is timed here and written next to its CSV reports.
/// </remarks>
public static class LatencyScenario
{
    /// <summary>One contender's latency distribution, in microseconds.</summary>
    public sealed record Row(string Contender, int Workers, double Rate, double OwnPeak, int Jobs, double P50, double P99, double P999, double Max);

    /// <summary>Runs the scenario and returns one row per contender and worker count.</summary>
    public static async Task<IReadOnlyList<Row>> RunAsync(int[] workerCounts, TimeSpan runLength, int peakJobs, bool peers, int peerDivisor, TextWriter log, double? fixedRate = null)
    {
        var rows = new List<Row>();
        foreach (var workers in workerCounts)
        {
            var peaks = new Dictionary<ContenderKind, double>();
            foreach (var kind in ContenderFactory.InProcess)
            {
                await using var contender = ContenderFactory.Create(kind, workers);
                await contender.StartAsync();
                peaks[kind] = (await Measure.SteadyAsync(contender, peakJobs, runs: 2)).JobsPerSecond;
            }

            var rate = fixedRate ?? peaks.Values.Min() / 2;
            log.WriteLine($"latency: {workers} worker(s), offered load {rate / 1e6:F2} M jobs/s (half the lowest in-process peak)");
            foreach (var kind in ContenderFactory.InProcess)
            {
                rows.Add(await MeasureOneAsync(kind, workers, rate, peaks[kind], runLength));
                log.WriteLine("  " + Format(rows[^1]));
            }

            if (peers)
            {
                foreach (var kind in ContenderFactory.Peers)
                {
                    await using var probe = ContenderFactory.Create(kind, workers);
                    await probe.StartAsync();
                    var peak = (await Measure.SteadyAsync(probe, JobCounts.For(kind, peerDivisor), runs: 1)).JobsPerSecond;
                    rows.Add(await MeasureOneAsync(kind, workers, peak / 2, peak, runLength));
                    log.WriteLine("  " + Format(rows[^1]));
                }
            }
        }

        return rows;
    }

    public static string Format(Row row) =>
        string.Create(CultureInfo.InvariantCulture, $"{row.Contender,-32} {row.Workers}w  rate {row.Rate,12:N0}/s ({row.Rate / row.OwnPeak:P0} of its peak)  p50 {row.P50,9:F1} us  p99 {row.P99,9:F1} us  p99.9 {row.P999,9:F1} us  max {row.Max,10:F1} us");

    public static void WriteCsv(IReadOnlyList<Row> rows, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var writer = new StreamWriter(path);
        writer.WriteLine("Contender,Workers,RatePerSecond,OwnPeakPerSecond,Jobs,P50Us,P99Us,P999Us,MaxUs");
        foreach (var r in rows)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{r.Contender},{r.Workers},{r.Rate:F0},{r.OwnPeak:F0},{r.Jobs},{r.P50:F2},{r.P99:F2},{r.P999:F2},{r.Max:F2}"));
        }
    }

    private static async Task<Row> MeasureOneAsync(ContenderKind kind, int workers, double rate, double ownPeak, TimeSpan runLength)
    {
        await using var contender = ContenderFactory.Create(kind, workers);
        await contender.StartAsync();

        // Warm up at the same rate for a fifth of the run, then measure.
        var warmJobs = Math.Max(100, (int)(rate * runLength.TotalSeconds / 5));
        await PacedAsync(contender, warmJobs, rate);
        var jobs = Math.Max(1_000, (int)(rate * runLength.TotalSeconds));
        var latencies = await PacedAsync(contender, jobs, rate);

        Array.Sort(latencies);
        var toMicroseconds = 1e6 / Stopwatch.Frequency;
        double At(double quantile) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(quantile * latencies.Length) - 1)] * toMicroseconds;
        return new Row(ContenderFactory.Label(kind), workers, rate, ownPeak, jobs, At(0.50), At(0.99), At(0.999), latencies[^1] * toMicroseconds);
    }

    private static async Task<long[]> PacedAsync(IContender contender, int jobs, double rate)
    {
        var batch = new Job[jobs];
        for (var i = 0; i < jobs; i++)
        {
            batch[i] = new Job { Index = i };
        }

        var latencies = new long[jobs];
        var done = contender.Completion.Expect(jobs, latencies);
        var ticksPerJob = Stopwatch.Frequency / rate;
        var producer = new Thread(() =>
        {
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < jobs; i++)
            {
                var due = start + (long)(i * ticksPerJob);
                while (Stopwatch.GetTimestamp() < due)
                {
                    // Yield rather than spin: on 2 cores a spinning producer would starve the workers it measures.
                    Thread.Yield();
                }

                var job = batch[i];
                job.EnqueuedAt = Stopwatch.GetTimestamp();
                var pending = contender.EnqueueAsync(job);
                if (!pending.IsCompletedSuccessfully)
                {
                    pending.AsTask().GetAwaiter().GetResult();
                }
            }
        })
        { IsBackground = true, Name = "paced producer" };
        producer.Start();
        await done.WaitAsync(Drive.Patience);
        producer.Join();
        return latencies;
    }
}
