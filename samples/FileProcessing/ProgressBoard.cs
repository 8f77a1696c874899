namespace FileProcessing;

/// <summary>
/// What the workers did: prints a line per file, counts successes and failures, tracks the most files in
/// progress at once, and completes <see cref="AllDone"/> when every file has been handled.
/// </summary>
/// <param name="files">How many files were enqueued.</param>
/// <param name="displayRoot">Paths are printed relative to this folder.</param>
/// <param name="output">Where the lines go.</param>
public sealed class ProgressBoard(int files, string displayRoot, TextWriter output)
{
    // One lock keeps each count and its line together, so the lines come out in the order the counts changed.
    // (The queue's own hot path is lock-free; a progress printer called a few times per file need not be.)
    private readonly Lock _gate = new();
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly List<string> _failures = [];
    private readonly int _files = files;
    private int _remaining = files;
    private int _succeeded;
    private int _inProgress;
    private int _peakInProgress;

    /// <summary>Gets a task that completes when every file has succeeded or failed (at once when there are none).</summary>
    public Task AllDone => _files == 0 ? Task.CompletedTask : _allDone.Task;

    public int Succeeded
    {
        get
        {
            lock (_gate)
            {
                return _succeeded;
            }
        }
    }

    public int PeakInProgress
    {
        get
        {
            lock (_gate)
            {
                return _peakInProgress;
            }
        }
    }

    /// <summary>Gets one line per file that failed: its path and why.</summary>
    public IReadOnlyList<string> Failures
    {
        get
        {
            lock (_gate)
            {
                return [.. _failures];
            }
        }
    }

    public void Started(string path)
    {
        lock (_gate)
        {
            _inProgress++;
            _peakInProgress = Math.Max(_peakInProgress, _inProgress);
            output.WriteLine($"⏳ {Show(path)} started ({_inProgress} in progress)");
        }
    }

    public void Compressed(string path, string target)
    {
        lock (_gate)
        {
            _succeeded++;
            output.WriteLine($"✅ {Show(path)} processed → {Show(target)}");
            Finish();
        }
    }

    public void Failed(string path, string reason)
    {
        lock (_gate)
        {
            _failures.Add($"{Show(path)}: {reason}");
            output.WriteLine($"❌ {Show(path)} failed: {reason}");
            Finish();
        }
    }

    private string Show(string path) => Path.GetRelativePath(displayRoot, path);

    private void Finish()
    {
        _inProgress--;
        if (--_remaining == 0)
        {
            // RunContinuationsAsynchronously: the waiting program does not run inside this lock.
            _allDone.SetResult();
        }
    }
}
