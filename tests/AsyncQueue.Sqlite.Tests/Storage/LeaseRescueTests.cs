using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// A process that dies holding a lease (here: a store disposed with a job fetched and never settled, which leaves the
/// row leased exactly as a crash does) loses that attempt: a process that opens the file later rescues the job.
/// </summary>
public sealed class LeaseRescueTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(1);

    private readonly TempDatabase _database = new();
    private readonly FakeTimeProvider _time = new(Start);

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Sweep_ExpiredLeaseWithAttemptsLeft_RunsJobAgainWithCrashCountedAsAttempt()
    {
        await CrashWhileRunningAsync(new EnqueueOptions());

        await using var next = Open(RetryPolicy.Fixed(3, TimeSpan.FromSeconds(10)));
        _time.Advance(TimeSpan.FromSeconds(31));
        await Poll.UntilAsync(() => _database.Scalar("SELECT state FROM asyncqueue_jobs") == 0, "the sweeper rescued the job");

        // The retry policy's backoff applies to a crash too: 10 seconds after the lease ran out (at 30 s) or later.
        Assert.True(_database.Scalar("SELECT run_at FROM asyncqueue_jobs") >= (Start + TimeSpan.FromSeconds(40)).UtcTicks);
        var fetch = next.FetchAsync().AsTask();
        _time.Advance(TimeSpan.FromSeconds(10));
        var again = await fetch.WaitAsync(Guard);

        Assert.Equal(2, again.Attempt);
        var crash = Assert.Single(again.Errors);
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, crash.ExceptionType);
        Assert.Contains("process crashed or the lease expired", crash.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseOnLastAttemptByMaxAttempts_DeadLettersWithReason()
    {
        var id = await CrashWhileRunningAsync(new EnqueueOptions { MaxAttempts = 1 });

        await using var next = Open(RetryPolicy.Default);
        _time.Advance(TimeSpan.FromSeconds(31));

        var entry = await DeadLetteredAsync(next, id);
        Assert.Equal(1, entry.Attempts);
        Assert.Equal(new SqliteTestJob(7), entry.Job);
        Assert.Contains("process crashed or the lease expired", Assert.Single(entry.Errors).Message, StringComparison.Ordinal);
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs"));
    }

    [Fact]
    public async Task Sweep_ExpiredLeaseOnLastAttemptByRetryPolicy_DeadLetters()
    {
        // RetryPolicy.None: one attempt; the crash spends it.
        var id = await CrashWhileRunningAsync(new EnqueueOptions());

        await using var next = Open(RetryPolicy.None);
        _time.Advance(TimeSpan.FromSeconds(31));

        var entry = await DeadLetteredAsync(next, id);
        Assert.Equal(1, entry.Attempts);
    }

    [Fact]
    public async Task Dispose_LeasedButNeverStartedJobs_AreHandedBackWithoutSpendingAnAttempt()
    {
        var store = Open(RetryPolicy.Default);
        await store.Jobs.EnqueueBatchAsync([new SqliteTestJob(1), new SqliteTestJob(2)]);
        var first = await store.FetchAsync().AsTask().WaitAsync(Guard);

        // Completing the first leases the next for this worker's coming fetch; it is never taken.
        await store.Store.CompleteAsync(first, CancellationToken.None);
        await store.DisposeAsync();

        Assert.Equal([0L, 0L], _database.Rows("SELECT state, attempt FROM asyncqueue_jobs").Single());
    }

    /// <summary>Enqueues job 7, fetches it (attempt 1), and "crashes": the store goes away with the lease held.</summary>
    private async Task<JobId> CrashWhileRunningAsync(EnqueueOptions options)
    {
        await using var crashed = Open(RetryPolicy.Default);
        var result = await crashed.Jobs.EnqueueAsync(new SqliteTestJob(7), options);
        var job = await crashed.FetchAsync().AsTask().WaitAsync(Guard);
        Assert.Equal(1, job.Attempt);
        return result.JobId;
    }

    private static async Task<DeadLetterEntry> DeadLetteredAsync(BareStore store, JobId id)
    {
        DeadLetterEntry? entry = null;
        var deadline = Environment.TickCount64 + 60_000;
        while ((entry = await store.DeadLetters.GetAsync(id)) is null)
        {
            Assert.True(Environment.TickCount64 < deadline, "The job was never dead-lettered.");
            await Task.Delay(10);
        }

        Assert.Equal(BareStore.Queue + "-dead-letter", entry.DeadLetterQueue);
        return entry;
    }

    private BareStore Open(IRetryPolicy retry) => BareStore.Open(_database, _time, q => q.Retry = retry);
}
