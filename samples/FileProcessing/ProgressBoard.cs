using System.Collections.Concurrent;

namespace FileProcessing;

/// <summary>Collects what the workers did, so the program can print a summary and know when every file is done.</summary>
public sealed class ProgressBoard(int files)
{
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _files = files;
    private int _remaining = files;
    private int _inProgress;
    private int _peakInProgress;

    public ConcurrentQueue<string> Failures { get; } = new();

    public int Succeeded => _files - Failures.Count - Volatile.Read(ref _remaining);

    public int PeakInProgress => Volatile.Read(ref _peakInProgress);

    public Task AllDone => _allDone.Task;

    public void Started()
    {
        var now = Interlocked.Increment(ref _inProgress);
        int peak;
        while (now > (peak = Volatile.Read(ref _peakInProgress)) && Interlocked.CompareExchange(ref _peakInProgress, now, peak) != peak)
        {
        }
    }

    public void Finished(string? failure)
    {
        Interlocked.Decrement(ref _inProgress);
        if (failure is not null)
        {
            Failures.Enqueue(failure);
        }

        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _allDone.SetResult();
        }
    }
}
