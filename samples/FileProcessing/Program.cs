using AsyncQueue;
using FileProcessing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: dotnet run --project samples/FileProcessing [folder]
// With no folder, five sample files are made in a temporary folder (original/file_0.jpg ... file_4.jpg).
var root = args.Length > 0 ? Path.GetFullPath(args[0]) : CreateSampleFolder();
var input = args.Length > 0 ? root : Path.Combine(root, "original");
var output = Path.Combine(root, "processed");
Directory.CreateDirectory(output);
var files = Directory.GetFiles(input).Order(StringComparer.Ordinal).ToArray();
var board = new ProgressBoard(files.Length);

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(board);
builder.Services.AddJobQueue()
    .AddHandler<ProcessFile, ProcessFileHandler>(queue => queue.MaxConcurrency = 3);

using var host = builder.Build();
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobQueue>();

Console.WriteLine($"Enqueuing {files.Length} file(s) from {input} for 3 workers...");
foreach (var file in files)
{
    // Returns at once: the work happens on the queue's workers.
    await jobs.EnqueueAsync(new ProcessFile(file, Path.GetDirectoryName(input)!, output));
}

if (files.Length > 0)
{
    await board.AllDone;
}

await host.StopAsync();
Console.WriteLine($"Done: {board.Succeeded} processed, {board.Failures.Count} failed, at most {board.PeakInProgress} in progress at once (limit 3). Output: {output}");
return board.Failures.IsEmpty ? 0 : 1;

static string CreateSampleFolder()
{
    var root = Path.Combine(Path.GetTempPath(), "asyncqueue-files-" + Guid.NewGuid().ToString("N")[..8]);
    var original = Directory.CreateDirectory(Path.Combine(root, "original")).FullName;
    for (var i = 0; i < 5; i++)
    {
        // Compressible content, different per file, so the .gz files are real and distinct.
        var text = string.Concat(Enumerable.Repeat($"file {i}: pretend these are the bytes of a photo. ", 2_000 * (i + 1)));
        File.WriteAllText(Path.Combine(original, $"file_{i}.jpg"), text);
    }

    return root;
}
