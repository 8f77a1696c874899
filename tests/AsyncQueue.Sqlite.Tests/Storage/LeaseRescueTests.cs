using System.Collections.Concurrent;
using System.Text.Json;
using AsyncQueue.Conformance;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// A process that dies holding a lease (here: a store disposed with a job fetched and never settled, which leaves the
/// row leased exactly as a crash does) loses that attempt: a process that opens the file later takes the job over, and
/// its dispatcher decides. A job whose start was not recorded is handed back uncharged, to run isolated; a crash during
/// an isolated run, whose start was recorded, is the job's failed attempt.
/// </summary>
public sealed class LeaseRescueTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);
    private readonly ConcurrentQueue<(int Number, int Attempt)> _runs = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Sweep_ExpiredLeaseOfAttemptNotRecordedAsStarted_RunsJobAgainUnchargedAndIsolated()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await CrashWhileRunningAsync(new EnqueueOptions(), startRecorded: false);

        await using var next = await StartHostAsync(RetryPolicy.Fixed(3, TimeSpan.FromSeconds(10)), release.Task);
        try
        {
            _time.Advance(TimeSpan.FromSeconds(31));
            await Poll.UntilAsync(() => !_runs.IsEmpty, "the rescued job ran again");

            // Uncharged: the same attempt, at once, no error; isolated, with its start recorded before the handler ran.
            Assert.Equal([(7, 1)], _runs);
            Assert.Equal([1L, 1L, 1L, 1L], _database.Rows("SELECT state, attempt, isolated, started FROM asyncqueue_jobs").Single());
            Assert.Null(_database.Rows("SELECT errors FROM asyncqueue_jobs").Single()[0]);
        }
        finally
        {
            release.SetResult();
        }

        await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the job completed");
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseOfIsolatedAttemptRecordedAsStarted_RunsJobAgainWithCrashCountedAsAttempt()
    {
        await CrashWhileRunningAsync(new EnqueueOptions(), startRecorded: true);

        await using var next = await StartHostAsync(RetryPolicy.Fixed(3, TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(31));
        await Poll.UntilAsync(() => _database.Scalar("SELECT state FROM asyncqueue_jobs") == 0, "the dispatcher rescheduled the job");

        // The retry policy's backoff applies to a crash too: 10 seconds after the rescue (past the 30-second lease) or later.
        Assert.True(_database.Scalar("SELECT run_at FROM asyncqueue_jobs") >= (Start + TimeSpan.FromSeconds(40)).UtcTicks);
        var crash = Assert.Single(StoredErrors("SELECT errors FROM asyncqueue_jobs"));
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, crash.GetProperty("ExceptionType").GetString());
        Assert.Equal(1, crash.GetProperty("Attempt").GetInt32());
        Assert.Contains("crashed", crash.GetProperty("Message").GetString(), StringComparison.Ordinal);
        Assert.Empty(_runs);

        _time.Advance(TimeSpan.FromSeconds(10));
        await Poll.UntilAsync(() => !_runs.IsEmpty, "the job ran again");

        Assert.Equal([(7, 2)], _runs);
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseOnLastAttemptByMaxAttempts_DeadLettersWithReason()
    {
        var id = await CrashWhileRunningAsync(new EnqueueOptions { MaxAttempts = 1 }, startRecorded: true);

        await using var next = await StartHostAsync(RetryPolicy.Default);
        _time.Advance(TimeSpan.FromSeconds(31));

        var entry = await DeadLetteredAsync(next, id);
        Assert.Equal(1, entry.Attempts);
        Assert.Equal(new SqliteTestJob(7), entry.Job);
        var crash = Assert.Single(entry.Errors);
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, crash.ExceptionType);
        Assert.Contains("crashed", crash.Message, StringComparison.Ordinal);
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
        Assert.Empty(_runs);
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseOnLastAttemptByRetryPolicy_DeadLetters()
    {
        // RetryPolicy.None: one attempt; the crash spends it.
        var id = await CrashWhileRunningAsync(new EnqueueOptions(), startRecorded: true);

        await using var next = await StartHostAsync(RetryPolicy.None);
        _time.Advance(TimeSpan.FromSeconds(31));

        var entry = await DeadLetteredAsync(next, id);
        Assert.Equal(1, entry.Attempts);
    }

    [Fact]
    public async Task Dispose_LeasedButNeverStartedJobs_AreHandedBackWithoutSpendingAnAttempt()
    {
        var store = BareStore.Open(_database, _time);
        await store.Jobs.EnqueueBatchAsync([new SqliteTestJob(1), new SqliteTestJob(2)]);
        var first = await store.FetchAsync().AsTask().WaitAsync(Guard);

        // Completing the first leases the next for this worker's coming fetch; it is never taken.
        await store.Store.CompleteAsync(first, CancellationToken.None);
        await store.DisposeAsync();

        Assert.Equal([0L, 0L], _database.Rows("SELECT state, attempt FROM asyncqueue_jobs WHERE state < 2").Single());
    }

    /// <summary>
    /// Enqueues job 7, fetches it (attempt 1), and "crashes": the store goes away with the lease held. With
    /// <paramref name="startRecorded"/>, the attempt is first made what the dispatcher makes of a suspect: handed back
    /// uncharged and isolated, leased again, and its start recorded.
    /// </summary>
    private async Task<JobId> CrashWhileRunningAsync(EnqueueOptions options, bool startRecorded)
    {
        await using var crashed = BareStore.Open(_database, _time);
        var result = await crashed.Jobs.EnqueueAsync(new SqliteTestJob(7), options);
        var job = await crashed.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(1, job.Attempt);
        if (startRecorded)
        {
            job.Attempt--;
            job.Isolated = true;
            await crashed.Store.RescheduleAsync(job, _time.GetUtcNow(), CancellationToken.None);
            job = await crashed.FetchAsync().AsTask().WaitAsync(Guard);
            Assert.True(job.Isolated);
            Assert.True(await crashed.Store.MarkStartedAsync(job, CancellationToken.None));
        }

        return result.JobId;
    }

    private static async Task<DeadLetterEntry> DeadLetteredAsync(JobQueueTestHost host, JobId id)
    {
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        DeadLetterEntry? entry = null;
        await Poll.UntilAsync(async () => (entry = await deadLetters.GetAsync(id)) is not null, "the job was dead-lettered");
        Assert.Equal(BareStore.Queue + "-dead-letter", entry!.DeadLetterQueue);
        return entry;
    }

    private List<JsonElement> StoredErrors(string sql)
    {
        using var errors = JsonDocument.Parse((string)_database.Rows(sql).Single()[0]!);
        return [.. errors.RootElement.EnumerateArray().Select(e => e.Clone())];
    }

    /// <summary>The next process: a host with its dispatcher, on the same file and clock. Its handler records each run, then waits for <paramref name="hold"/>.</summary>
    private Task<JobQueueTestHost> StartHostAsync(IRetryPolicy retry, Task? hold = null) => JobQueueTestHost.StartAsync((services, queue) =>
    {
        services.AddSingleton<TimeProvider>(_time);
        services.AddSingleton(new SqliteTestJobHandler.Behaviour((job, context) =>
        {
            _runs.Enqueue((job.Number, context.Attempt));
            return hold ?? Task.CompletedTask;
        }));
        queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, q => q.Retry = retry).UseSqlite(_database.ConnectionString);
    });
}
