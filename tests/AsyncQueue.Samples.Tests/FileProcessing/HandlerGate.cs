using AsyncQueue;
using FileProcessing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>
/// Wraps the sample's real handler so the test decides when jobs may go on: each job waits at the gate until
/// <see cref="Release"/>, and the gate counts how many jobs are inside it at once.
/// </summary>
public sealed class HandlerGate
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _entered = new(0);
    private int _inProgress;
    private int _peak;
    private int _enteredCount;

    public int InProgress => Volatile.Read(ref _inProgress);

    public int Peak => Volatile.Read(ref _peak);

    public int Entered => Volatile.Read(ref _enteredCount);

    /// <summary>Puts the gate in front of the real <see cref="ProcessFileHandler"/> (for <c>FolderProcessor.RunAsync</c>'s configureServices).</summary>
    public void Install(IServiceCollection services) =>
        services.Replace(ServiceDescriptor.Scoped<IJobHandler<ProcessFile>>(sp => new GatedHandler(ActivatorUtilities.CreateInstance<ProcessFileHandler>(sp), this)));

    /// <summary>Waits until <paramref name="count"/> more jobs have reached the gate; false if they never do (a hang guard, not a timing).</summary>
    public async Task<bool> WaitForEnteredAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            if (!await _entered.WaitAsync(TimeSpan.FromMinutes(2)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Lets every waiting job, and every later one, through.</summary>
    public void Release() => _release.TrySetResult();

    private sealed class GatedHandler(IJobHandler<ProcessFile> inner, HandlerGate gate) : IJobHandler<ProcessFile>
    {
        public async Task HandleAsync(ProcessFile job, JobContext context, CancellationToken cancellationToken)
        {
            var now = Interlocked.Increment(ref gate._inProgress);
            int peak;
            while (now > (peak = Volatile.Read(ref gate._peak)) && Interlocked.CompareExchange(ref gate._peak, now, peak) != peak)
            {
            }

            Interlocked.Increment(ref gate._enteredCount);
            gate._entered.Release();
            try
            {
                await gate._release.Task.WaitAsync(cancellationToken);
                await inner.HandleAsync(job, context, cancellationToken);
            }
            finally
            {
                Interlocked.Decrement(ref gate._inProgress);
            }
        }
    }
}
