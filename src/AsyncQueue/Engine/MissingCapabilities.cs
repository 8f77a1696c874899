using AsyncQueue.Storage;

namespace AsyncQueue.Engine;

/// <summary>
/// The job queue's refusals of an operation its store declares it cannot do (<see cref="JobStoreCapabilities"/>): made
/// here, once for every store, before the store is asked or anything in this process is touched (a running handler's
/// token is not fired for a cancel that then fails), with a message that names what is missing and what to do instead.
/// </summary>
internal static class MissingCapabilities
{
    private const string StoresWithStatus = "in-memory, SQLite, PostgreSQL, Redis";

    /// <summary>Throws when <paramref name="store"/> keeps no job status, so job <paramref name="id"/> cannot be looked up.</summary>
    public static void ThrowIfNoJobStatus(IJobStore store, JobId id)
    {
        if ((store.Capabilities & JobStoreCapabilities.JobStatus) == 0)
        {
            throw new NotSupportedException(
                $"The job store ({store.GetType().Name}) keeps no job status (it lacks JobStoreCapabilities.JobStatus), so job {id} cannot be looked up. A queue's counts are in IJobQueueMonitor.GetStatusAsync and its dead letters in IDeadLetterQueue; for status by id, use a store that keeps it ({StoresWithStatus}).");
        }
    }

    /// <summary>Throws when <paramref name="store"/> keeps no job status, so job <paramref name="id"/> cannot be cancelled by id.</summary>
    public static void ThrowIfNoCancel(IJobStore store, JobId id)
    {
        if ((store.Capabilities & JobStoreCapabilities.JobStatus) == 0)
        {
            throw new NotSupportedException(
                $"The job store ({store.GetType().Name}) keeps no job status (it lacks JobStoreCapabilities.JobStatus), so job {id} cannot be cancelled by id. Have the job's handler check a cancel flag of your own, or use a store that keeps job status ({StoresWithStatus}).");
        }
    }

    /// <summary>Throws when <paramref name="store"/> keeps no pause, so <paramref name="queue"/> cannot be paused or resumed.</summary>
    public static void ThrowIfNoPause(IJobStore store, string queue)
    {
        if ((store.Capabilities & JobStoreCapabilities.Pause) == 0)
        {
            throw new NotSupportedException(
                $"The job store ({store.GetType().Name}) has no pause that every process obeys (it lacks JobStoreCapabilities.Pause), so queue '{queue}' cannot be paused or resumed. Stop the workers (or their hosts) instead; the jobs wait in the store.");
        }
    }
}
