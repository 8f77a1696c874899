using System.Globalization;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// Operations by job id (cancel, status) and by queue (pause, counts). A job's keys carry its queue's hash tag, so a
/// lookup by id asks each queue this process configures in turn, one slot each: a job of a queue this process does
/// not configure is not found here.
/// </summary>
internal sealed partial class RedisJobStore
{
    public async ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken)
    {
        foreach (var queue in _queueList)
        {
            var reply = (RedisResult[])(await RunAsync(RedisScripts.Cancel, queue, IdOf(id), NowMs, Ms(queue.Options.FinishedJobRetention), StoredJobStatus.Capacity(queue.Options)).ConfigureAwait(false))!;
            CountStatusEvictions(queue, (long)reply[1]);
            switch ((string?)reply[0])
            {
                case "C":
                    return CancelJobResult.Cancelled;
                case "R":
                    return CancelJobResult.CancellationRequested;
                case "F":
                    return CancelJobResult.AlreadyFinished;
                default:
                    continue;
            }
        }

        return CancelJobResult.NotFound;
    }

    /// <remarks>
    /// Completions queued here are recorded first (<see cref="RedisStoreOptions.AsynchronousCompletions"/>), so a job
    /// whose <c>CompleteAsync</c> returned reads succeeded. A job leased ahead for this process's workers and not taken
    /// reads waiting, as before its lease; the read holds the queue's lease gate, so a lease on its way is in first.
    /// </remarks>
    public async ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken)
    {
        await CompletionsRecordedAsync(cancellationToken).ConfigureAwait(false);
        var key = IdOf(id);
        foreach (var queue in _queueList)
        {
            HashEntry[] fields;
            string? untaken;
            await queue.LeaseGate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                fields = await _db.HashGetAllAsync(queue.JobKey(key)).ConfigureAwait(false);
                untaken = _held.TryGetValue(key, out var held) && held.StoreData is RedisLease { TakenOver: false, Taken: false } lease
                    ? lease.Token.ToString(CultureInfo.InvariantCulture)
                    : null;
            }
            finally
            {
                queue.LeaseGate.Release();
            }

            if (fields.Length > 0)
            {
                return Describe(queue, fields.ToDictionary(f => (string)f.Name!, f => (string?)f.Value, StringComparer.Ordinal), untaken);
            }
        }

        return null;
    }

    public async ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        var state = GetQueue(queue);
        if (paused)
        {
            await _db.StringSetAsync(state.Key("paused"), "1").ConfigureAwait(false);

            // Every process (this one too) hands back what it leased ahead and no worker took.
            await _db.PublishAsync(state.WakeChannel, PauseMessage).ConfigureAwait(false);
            await HandBackUntakenAsync(state).ConfigureAwait(false);
            return;
        }

        await _db.KeyDeleteAsync(state.Key("paused")).ConfigureAwait(false);

        // Every process's fetch loop of the queue wakes at once.
        await _db.PublishAsync(state.WakeChannel, "1").ConfigureAwait(false);
        state.Wake.Set();
    }

    public async ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        var state = _queues.GetValueOrDefault(queue) ?? new RedisQueue(queue, new QueueOptions(), _options.KeyPrefix);
        if (Volatile.Read(ref _disposed) != 0)
        {
            // Gauges may still be observed after the host stopped: a closed store reports an empty queue.
            return new QueueCounts(0, 0, 0);
        }

        // Completions queued here are recorded first, so a job whose CompleteAsync returned no longer counts as running.
        await CompletionsRecordedAsync(cancellationToken).ConfigureAwait(false);

        // Jobs leased for this process's workers and not yet taken have not started: they count as waiting, not running.
        // The count holds the lease gate, so no lease's reply is on its way: every job Redis counts as leased for this
        // process's buffer is already counted as untaken here.
        RedisResult[] reply;
        long untaken;
        await state.LeaseGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            reply = (RedisResult[])(await RunAsync(RedisScripts.Count, state, NowMs).ConfigureAwait(false))!;
            untaken = state.Untaken;
        }
        finally
        {
            state.LeaseGate.Release();
        }

        var leased = (long)reply[2];
        untaken = Math.Min(untaken, leased);
        return new QueueCounts((long)reply[0] + untaken, (long)reply[1], leased - untaken, (long)reply[3] == 1);
    }

    /// <summary>What a job's hash says of it.</summary>
    /// <param name="queue">The job's queue.</param>
    /// <param name="f">The job's hash.</param>
    /// <param name="untaken">The token of this process's lease on the job when none of its workers took it: a job leased so reads waiting, its attempt not yet begun.</param>
    private JobInfo? Describe(RedisQueue queue, Dictionary<string, string?> f, string? untaken = null)
    {
        string? Get(string name) => f.GetValueOrDefault(name);
        long Long(string name) => long.TryParse(Get(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : 0;

        var now = _time.GetUtcNow();
        var runAt = new DateTimeOffset(Long("runat"), TimeSpan.Zero);
        var finished = Long("fin");
        var leasedAhead = untaken is not null && Get("token") == untaken;
        var state = Get("state") switch
        {
            "waiting" => JobState.Waiting,
            "scheduled" when runAt <= now => JobState.Waiting,
            "scheduled" => string.IsNullOrEmpty(Get("errors")) ? JobState.Scheduled : JobState.Retrying,
            "leased" when leasedAhead => JobState.Waiting,
            "leased" => JobState.Running,
            "awaiting" => JobState.AwaitingParent,
            "succeeded" => JobState.Succeeded,
            "cancelled" => JobState.Cancelled,
            "dead" => JobState.DeadLettered,
            _ => (JobState?)null,
        };
        if (state is not { } known)
        {
            return null;
        }

        if (known is JobState.Succeeded or JobState.Cancelled && FromMs(finished) + queue.Options.FinishedJobRetention <= now)
        {
            // Past its retention: the sweeper removes it at its next pass.
            return null;
        }

        var record = BuildRecord(Get("id") ?? "", queue.Name, Get("kind"), payload: "null", Get("attempt"), Get("max"), Get("enq"), Get("runat"), Get("key"), Get("errors"), null, null, Get("prio"), null);
        return new JobInfo(record.Id, queue.Name, record.Kind, known, record.EnqueuedAt)
        {
            // The lease counted the attempt, which a job leased ahead has not begun.
            Attempt = leasedAhead ? record.Attempt - 1 : record.Attempt,
            MaxAttempts = record.MaxAttempts,
            Priority = record.Priority,
            Errors = record.Errors,
            IdempotencyKey = record.IdempotencyKey,
            Result = string.IsNullOrEmpty(Get("result")) ? null : Get("result"),
            StartedAt = known is JobState.Running && Long("startedat") > 0 ? FromMs(Long("startedat")) : null,
            FinishedAt = known switch
            {
                JobState.Succeeded or JobState.Cancelled => FromMs(finished),
                JobState.DeadLettered => FromMs(Long("dlat")),
                _ => null,
            },
            NextRunAt = known is JobState.Waiting or JobState.Scheduled or JobState.Retrying ? runAt : null,
            CancellationRequested = Get("cancel") == "1",
            DeadLetterQueue = known is JobState.DeadLettered ? Get("dlq") : null,
        };
    }
}
