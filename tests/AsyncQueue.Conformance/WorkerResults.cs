using System.Globalization;

namespace AsyncQueue.Conformance;

/// <summary>
/// Reads a test worker's results file (tests/AsyncQueue.TestWorker, command <c>work</c>): one "number attempt" line per
/// handler run, written before the job is acknowledged. A line torn by a kill is ignored (its job was not acknowledged).
/// </summary>
public static class WorkerResults
{
    /// <summary>Reads every run in the file, which may be missing (no run yet) and may still be written to.</summary>
    /// <param name="path">The results file.</param>
    /// <returns>For each job number, the attempt of each of its runs, in the order they were written.</returns>
    public static Dictionary<int, List<int>> Read(string path)
    {
        var runs = new Dictionary<int, List<int>>();
        if (!File.Exists(path))
        {
            return runs;
        }

        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        var text = reader.ReadToEnd();
        foreach (var line in text.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length == 2 && int.TryParse(parts[0], CultureInfo.InvariantCulture, out var number) && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var attempt))
            {
                if (!runs.TryGetValue(number, out var attempts))
                {
                    runs[number] = attempts = [];
                }

                attempts.Add(attempt);
            }
        }

        return runs;
    }
}
