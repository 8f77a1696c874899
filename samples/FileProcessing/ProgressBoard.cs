using System.Globalization;

namespace FileProcessing;

/// <summary>
/// What the workers did: prints a line as each file starts and ends, with the time since the board was made and the
/// lane it ran in, counts successes and failures, tracks the most files in progress at once, and completes
/// <see cref="AllDone"/> when every file has been handled.
/// </summary>
/// <remarks>
/// A lane is a slot of the concurrency limit: a starting file takes the lowest free one and gives it back when it
/// ends. The queue has no such notion (any worker may take any job); the lanes only make the limit visible, as at most
/// 3 lanes are ever in use.
/// </remarks>
/// <param name="files">How many files were enqueued.</param>
/// <param name="displayRoot">Paths are printed relative to this folder.</param>
/// <param name="output">Where the lines go.</param>
/// <param name="time">The clock for the elapsed time on each line.</param>
public sealed class ProgressBoard(int files, string displayRoot, TextWriter output, TimeProvider time)
{
    private readonly long _start = time.GetTimestamp();
    private readonly Dictionary<string, int> _laneByPath = new(StringComparer.Ordinal);
    private readonly SortedSet<int> _freeLanes = [];
    private int _lanesUsed;
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
            int lane;
            if (_freeLanes.Count > 0)
            {
                lane = _freeLanes.Min;
                _freeLanes.Remove(lane);
            }
            else
            {
                lane = ++_lanesUsed;
            }

            _laneByPath[path] = lane;
            output.WriteLine($"{Stamp(lane)} ⏳ {Show(path)} started ({_inProgress} in progress)");
        }
    }

    public void Compressed(string path, string target)
    {
        lock (_gate)
        {
            _succeeded++;
            output.WriteLine($"{Stamp(EndLane(path))} ✅ {Show(path)} processed → {Show(target)}");
            Finish();
        }
    }

    public void Failed(string path, string reason)
    {
        lock (_gate)
        {
            _failures.Add($"{Show(path)}: {reason}");
            output.WriteLine($"{Stamp(EndLane(path))} ❌ {Show(path)} failed: {reason}");
            Finish();
        }
    }

    private string Show(string path) => Path.GetRelativePath(displayRoot, path);

    // "[+1.02s lane 2]": the elapsed time first, so the waves can be read down the left edge.
    private string Stamp(int lane) =>
        string.Create(CultureInfo.InvariantCulture, $"[+{time.GetElapsedTime(_start).TotalSeconds:0.00}s lane {lane}]");

    // Called under the gate. A file that failed before Started (none today) has no lane: shown as lane 0.
    private int EndLane(string path)
    {
        if (!_laneByPath.Remove(path, out var lane))
        {
            return 0;
        }

        _freeLanes.Add(lane);
        return lane;
    }

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
