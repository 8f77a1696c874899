using FileProcessing;

// Usage: dotnet run --project samples/FileProcessing [folder]
// With no folder, five sample files are made in a temporary folder (original/file_0.jpg ... file_4.jpg) and
// compressed into processed/ beside it. With a folder, its files are compressed into <folder>/processed.
// Exit code: 0 every file compressed, 1 some file failed, 2 the folder does not exist.
string input, output;
if (args.Length > 0)
{
    input = Path.GetFullPath(args[0]);
    output = Path.Combine(input, "processed");
    if (!Directory.Exists(input))
    {
        Console.Error.WriteLine($"Folder not found: {input}. Usage: dotnet run --project samples/FileProcessing [folder]");
        return 2;
    }
}
else
{
    var root = Path.Combine(Path.GetTempPath(), "asyncqueue-files-" + Guid.NewGuid().ToString("N")[..8]);
    input = SampleFolder.Create(root);
    output = Path.Combine(root, "processed");
}

var report = await FolderProcessor.RunAsync(input, output, Console.Out);
return report.Failures.Count == 0 ? 0 : 1;
