using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;
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
/// <remarks>
/// An upload's status and result are reached only with its token (<see cref="IssueToken"/>), never with the job id.
/// A <see cref="JobId"/> is unique but not secret: ids are handed out in per-process blocks, so from one's own id
/// the neighbours' can be guessed. The token is 256 random bits, and only its SHA-256 hash is kept, so a dump of
/// this board (or of the database that replaces it) hands out no working token.
/// </remarks>
public sealed class JobStatusBoard
{
    /// <summary>How many random bytes a token has: 32, so 43 base64url characters.</summary>
    public const int TokenBytes = 32;

    private readonly ConcurrentDictionary<JobId, JobStatus> _jobs = new();
    private readonly ConcurrentDictionary<string, JobId> _jobByTokenHash = new(StringComparer.Ordinal);

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

    /// <summary>Makes a new unguessable token that grants access to the job's status and result, and returns it.</summary>
    /// <param name="id">The job the token opens.</param>
    /// <returns>The token, in base64url: safe in a URL path.</returns>
    public string IssueToken(JobId id)
    {
        var token = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));
        _jobByTokenHash[Hash(token)] = id;
        return token;
    }

    /// <summary>Finds the status of the job that <paramref name="token"/> opens; false for any other string, a job id included.</summary>
    public bool TryGetByToken(string token, [MaybeNullWhen(false)] out JobStatus status)
    {
        status = null;
        return _jobByTokenHash.TryGetValue(Hash(token), out var id) && _jobs.TryGetValue(id, out status);
    }

    private static string Hash(string token) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    private void Set(JobStatus status) => _jobs[status.Id] = status;
}
