using System.Globalization;
using AsyncQueue;
using AsyncQueue.Recurring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FileProcessing;

/// <summary>
/// The sample's work: start a host with a 3-worker queue, enqueue one job per file, wait for every file. The host also
/// schedules the <see cref="NightlyCleanup"/> of the output folder, which a long-running service would keep doing.
/// </summary>
public static class FolderProcessor
{
    /// <summary>How many files are compressed at once: the queue's <see cref="QueueOptions.MaxConcurrency"/>.</summary>
    public const int Workers = 3;

    /// <summary>Compresses every file directly in <paramref name="inputFolder"/> into <paramref name="outputFolder"/>.</summary>
    /// <param name="inputFolder">The folder whose files are compressed (not its subfolders).</param>
    /// <param name="outputFolder">Where the <c>.gz</c> files go; created if missing.</param>
    /// <param name="output">Where the progress lines go.</param>
    /// <param name="configureServices">Changes the host's services after the sample's own registrations (tests use it).</param>
    /// <param name="ioDelay">The simulated I/O pause each job takes before compressing (see <see cref="SimulatedIo"/>); none by default.</param>
    /// <param name="cancellationToken">Stops waiting for the files.</param>
    /// <returns>What happened to the files.</returns>
    /// <exception cref="DirectoryNotFoundException"><paramref name="inputFolder"/> does not exist.</exception>
    public static async Task<ProcessingReport> RunAsync(
        string inputFolder,
        string outputFolder,
        TextWriter output,
        Action<IServiceCollection>? configureServices = null,
        TimeSpan ioDelay = default,
        CancellationToken cancellationToken = default)
    {
        inputFolder = Path.GetFullPath(inputFolder);
        outputFolder = Path.GetFullPath(outputFolder);
        if (!Directory.Exists(inputFolder))
        {
            throw new DirectoryNotFoundException($"The folder '{inputFolder}' does not exist.");
        }

        // List before creating the output folder, which may be inside the input folder.
        var files = Directory.GetFiles(inputFolder).Order(StringComparer.Ordinal).ToArray();
        Directory.CreateDirectory(outputFolder);

        // Paths are printed relative to the input's parent: original/file_0.jpg → processed/file_0_jpg.gz.
        ArgumentOutOfRangeException.ThrowIfLessThan(ioDelay, TimeSpan.Zero);
        var board = new ProgressBoard(files.Length, Path.GetDirectoryName(inputFolder) ?? inputFolder, output, TimeProvider.System);

        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(board);
        builder.Services.AddSingleton(new SimulatedIo(ioDelay));
        builder.Services.AddJobQueue()
            .AddHandler<ProcessFile, ProcessFileHandler>(queue => queue.MaxConcurrency = Workers)
            .AddNightlyCleanup(outputFolder);
        configureServices?.Invoke(builder.Services);

        using var host = builder.Build();
        await host.StartAsync(cancellationToken);
        try
        {
            var jobs = host.Services.GetRequiredService<IJobQueue>();
            output.WriteLine(NightlyCleanup.Describe(host.Services.GetRequiredService<IRecurringJobs>()));
            output.WriteLine(ioDelay > TimeSpan.Zero
                ? string.Create(CultureInfo.InvariantCulture, $"Enqueuing {files.Length} file(s) from {inputFolder} for {Workers} workers; each job first waits {ioDelay.TotalSeconds:0.0##} s of simulated slow I/O (--io-delay)...")
                : $"Enqueuing {files.Length} file(s) from {inputFolder} for {Workers} workers (no simulated I/O delay)...");
            foreach (var file in files)
            {
                // Returns at once: the work happens on the queue's workers.
                await jobs.EnqueueAsync(new ProcessFile(file, outputFolder), cancellationToken: cancellationToken);
            }

            await board.AllDone.WaitAsync(cancellationToken);
        }
        finally
        {
            await host.StopAsync(CancellationToken.None);
        }

        var report = new ProcessingReport(files.Length, board.Succeeded, board.Failures, board.PeakInProgress, outputFolder);
        output.WriteLine(
            $"Done: {report.Succeeded} processed, {report.Failures.Count} failed, at most {report.PeakInProgress} in progress at once (limit {Workers}). Output: {outputFolder}");
        if (report.PeakInProgress < Workers && files.Length >= Workers && ioDelay == TimeSpan.Zero)
        {
            // Files this small compress faster than jobs are handed out, so the limit is never reached.
            output.WriteLine($"(The files took too little time to overlap much; run with --io-delay 1 to see {Workers} at once.)");
        }
        return report;
    }
}
