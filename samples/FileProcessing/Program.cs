using System.Globalization;
using FileProcessing;

// Usage: dotnet run --project samples/FileProcessing [-- [folder] [--io-delay SECONDS] [--keep]]
// With no folder, five sample files are made in a temporary folder (original/file_0.jpg ... file_4.jpg), compressed
// into processed/ beside it, and the folder is deleted at the end unless --keep is given. With a folder, its files
// are compressed into <folder>/processed, which is kept.
// --io-delay: each job first waits this long (default 1 second), standing in for slow storage, so that 5 files on
// 3 workers visibly run in two waves; --io-delay 0 turns it off.
// The host also schedules a nightly cleanup of the output folder at 03:00 Europe/Berlin (NightlyCleanup) and prints its
// next run; a run this short ends before it.
// Exit code: 0 every file compressed, 1 some file failed, 2 bad arguments or the folder does not exist.
const string Usage = "Usage: dotnet run --project samples/FileProcessing -- [folder] [--io-delay SECONDS] [--keep]";
string? folder = null;
var ioDelay = SimulatedIo.DefaultDelay;
var keep = false;
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--io-delay":
            var value = i + 1 < args.Length ? args[++i] : "";
            if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) || seconds is not (>= 0 and <= 60))
            {
                return Fail($"--io-delay needs a number of seconds from 0 to 60, but got '{value}'.");
            }

            ioDelay = TimeSpan.FromSeconds(seconds);
            break;
        case "--keep":
            keep = true;
            break;
        case var arg when folder is null && !arg.StartsWith("--", StringComparison.Ordinal):
            folder = arg;
            break;
        default:
            return Fail($"Unexpected argument '{args[i]}'.");
    }
}

string input, output;
string? temporaryRoot = null;
if (folder is not null)
{
    input = Path.GetFullPath(folder);
    output = Path.Combine(input, "processed");
    if (!Directory.Exists(input))
    {
        Console.Error.WriteLine($"Folder not found: {input}. {Usage}");
        return 2;
    }
}
else
{
    temporaryRoot = Path.Combine(Path.GetTempPath(), "asyncqueue-files-" + Guid.NewGuid().ToString("N")[..8]);
    input = SampleFolder.Create(temporaryRoot);
    output = Path.Combine(temporaryRoot, "processed");
}

try
{
    var report = await FolderProcessor.RunAsync(input, output, Console.Out, ioDelay: ioDelay);
    return report.Failures.Count == 0 ? 0 : 1;
}
finally
{
    if (temporaryRoot is not null)
    {
        if (keep)
        {
            Console.WriteLine($"Kept the sample folder: {temporaryRoot}");
        }
        else
        {
            Directory.Delete(temporaryRoot, recursive: true);
            Console.WriteLine($"Deleted the temporary sample folder {temporaryRoot} (run with --keep to look at it, or pass a folder of your own).");
        }
    }
}

static int Fail(string message)
{
    Console.Error.WriteLine($"{message} {Usage}");
    return 2;
}
