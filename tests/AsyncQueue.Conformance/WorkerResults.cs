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

    /// <summary>Merges the runs of several processes: for each job number, the attempts of its runs in every process, in process order.</summary>
    /// <param name="perProcess">Each process's runs, as <see cref="Read"/> gives them.</param>
    /// <returns>The merged runs.</returns>
    public static Dictionary<int, List<int>> Merge(Dictionary<int, List<int>>[] perProcess)
    {
        var runs = new Dictionary<int, List<int>>();
        foreach (var (number, attempts) in perProcess.SelectMany(p => p))
        {
            if (!runs.TryGetValue(number, out var all))
            {
                runs[number] = all = [];
            }

            all.AddRange(attempts);
        }

        return runs;
    }

    /// <summary>How many runs each process made, for the report line: "712 / 14,731 / 14,561".</summary>
    /// <param name="perProcess">Each process's runs, as <see cref="Read"/> gives them.</param>
    /// <returns>The counts, in process order.</returns>
    public static string Counts(Dictionary<int, List<int>>[] perProcess) =>
        string.Join(" / ", perProcess.Select(p => p.Values.Sum(r => r.Count).ToString("N0", CultureInfo.InvariantCulture)));

    /// <summary>Counts the occurrences of <paramref name="what"/> in a child's log.</summary>
    /// <param name="text">The log.</param>
    /// <param name="what">The text to count.</param>
    /// <returns>How many times it occurs, without overlaps.</returns>
    public static int Occurrences(string text, string what)
    {
        var count = 0;
        for (var at = text.IndexOf(what, StringComparison.Ordinal); at >= 0; at = text.IndexOf(what, at + what.Length, StringComparison.Ordinal))
        {
            count++;
        }

        return count;
    }
}
