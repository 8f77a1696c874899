using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using AsyncQueue;

namespace WebUpload;

/// <summary>
/// The uploads' tokens: each opens one job's status, result and cancel. The queue knows what became of the job
/// (<see cref="AsyncQueue.Monitoring.IJobQueueMonitor.GetJobAsync"/>); this only knows which job a token opens.
/// </summary>
/// <remarks>
/// An upload is reached only with its token, never with its job id. A <see cref="JobId"/> is unique but not secret:
/// ids are handed out in per-process blocks, so from one's own id the neighbours' can be guessed. The token is 256
/// random bits, and only its SHA-256 hash (its <see cref="KeyOf">key</see>) is kept, so a dump of this map (or of the
/// database that replaces it) hands out no working token. The key also names the upload's files, so a cancel can
/// delete a saved upload that no job will read, with nothing kept but this map. In memory and never trimmed, like the
/// in-memory store's jobs: an application would keep the keys in its database with an expiry no longer than the
/// queue's <see cref="QueueOptions.FinishedJobRetention"/>.
/// </remarks>
public sealed class UploadTokens
{
    /// <summary>How many random bytes a token has: 32, so 43 base64url characters.</summary>
    public const int TokenBytes = 32;

    private readonly ConcurrentDictionary<string, JobId> _jobByKey = new(StringComparer.Ordinal);

    /// <summary>Makes a new unguessable token, before its job exists: the upload is saved under its <see cref="KeyOf">key</see> first.</summary>
    /// <returns>The token, in base64url: safe in a URL path.</returns>
    public static string NewToken() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(TokenBytes));

    /// <summary>Gets a token's key: its SHA-256 hash in hex, which is what this map keeps and what names the upload's files.</summary>
    /// <param name="token">The token.</param>
    /// <returns>64 lowercase hex digits.</returns>
    public static string KeyOf(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    /// <summary>Makes <paramref name="token"/> open job <paramref name="id"/>.</summary>
    /// <param name="token">A token from <see cref="NewToken"/>.</param>
    /// <param name="id">The job it opens.</param>
    public void Add(string token, JobId id) => _jobByKey[KeyOf(token)] = id;

    /// <summary>Finds the job that <paramref name="token"/> opens; false for any other string, a job id included.</summary>
    /// <param name="token">The token from the URL.</param>
    /// <param name="id">The job, when found.</param>
    /// <returns>Whether the token was issued here.</returns>
    public bool TryFind(string token, out JobId id) => _jobByKey.TryGetValue(KeyOf(token), out id);
}
