using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using AsyncQueue;

namespace WebUpload;

/// <summary>Where a job is in its life, as <c>GET /jobs/{id}</c> reports it.</summary>
public enum JobState
{
    /// <summary>Accepted, waiting for a worker.</summary>
    Queued,

    /// <summary>A worker is compressing it.</summary>
    Running,

    /// <summary>Compressed; the result can be downloaded.</summary>
    Succeeded,

    /// <summary>The last attempt failed.</summary>
    Failed,
}

/// <summary>One job's status.</summary>
public sealed record JobStatus(JobId Id, JobState State, CompressUpload Job, int Attempt = 0, long? CompressedSize = null, string? Error = null);

/// <summary>
/// The sample's status board: AsyncQueue has no status API, so the endpoint records a job when it enqueues it and
/// the handler records each change. In memory, like the queue's default store, and never trimmed: an application
/// that keeps jobs for long would store statuses in its database and expire them.
/// </summary>
public sealed class JobStatusBoard
{
    private readonly ConcurrentDictionary<JobId, JobStatus> _jobs = new();

    /// <summary>Records a job just enqueued.</summary>
    /// <remarks>
    /// The id is known only when <c>EnqueueAsync</c> returns, and by then a free worker may already have started the
    /// job (or even finished it). So this only adds: it never overwrites what the handler wrote first.
    /// </remarks>
    public void Queued(JobId id, CompressUpload job) => _jobs.TryAdd(id, new JobStatus(id, JobState.Queued, job));

    public void Running(JobId id, CompressUpload job, int attempt) => Set(new JobStatus(id, JobState.Running, job, attempt));

    public void Succeeded(JobId id, CompressUpload job, int attempt, long compressedSize) =>
        Set(new JobStatus(id, JobState.Succeeded, job, attempt, compressedSize));

    public void Failed(JobId id, CompressUpload job, int attempt, string error) => Set(new JobStatus(id, JobState.Failed, job, attempt, Error: error));

    public bool TryGet(JobId id, [MaybeNullWhen(false)] out JobStatus status) => _jobs.TryGetValue(id, out status);

    private void Set(JobStatus status) => _jobs[status.Id] = status;
}
