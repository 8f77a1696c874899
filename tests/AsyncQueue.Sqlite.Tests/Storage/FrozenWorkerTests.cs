using System.Collections.Concurrent;
using AsyncQueue.Conformance;
using AsyncQueue.Sqlite.Storage;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Sqlite.Tests.Storage;

/// <summary>
/// Issue 13: a worker frozen past its lease (a stopped VM, SIGSTOP, a long pause) never starts a job it lost. Two
/// processes on one file, each a host with its dispatcher and a clock of its own: the frozen one's clock stands still
/// while the other's passes the lease and takes its jobs over; then the frozen one's clock jumps, as a resumed process
/// sees it, and its worker goes on.
/// </summary>
public sealed class FrozenWorkerTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 7, 1, 9, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Frozen = TimeSpan.FromSeconds(7);

    private readonly TempDatabase _database = new();
    private readonly ConcurrentQueue<(string Process, int Number, int Attempt)> _starts = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Resume_AfterFreezePastTheLease_DoesNotStartTheBufferedJobItLost()
    {
        var frozenClock = new FakeTimeProvider(Start);
        var liveClock = new FakeTimeProvider(Start);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var frozen = await StartHostAsync("frozen", frozenClock, running.Task);
        try
        {
            // The frozen process runs job 1 (its one worker stays in the handler) and has job 2 leased for that worker,
            // waiting to be taken. The lease step leases only for a worker about to fetch, so such a buffered job
            // exists only for an instant between a settle and the next fetch; the test puts it there as the lease step does.
            await frozen.Queue.EnqueueAsync(new SqliteTestJob(1));
            await Poll.UntilAsync(() => _starts.Contains(("frozen", 1, 1)), "the frozen process started job 1");
            await frozen.Queue.EnqueueAsync(new SqliteTestJob(2));
            var store = (SqliteJobStore)frozen.Services.GetRequiredService<IJobStore>();
            var buffered = await store.OpenConsumer(BareStore.Queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(TimeSpan.FromMinutes(1));
            Assert.Equal(new SqliteTestJob(2), buffered.Job);
            var queue = store.GetQueue(BareStore.Queue);
            queue.Handed(1);
            Assert.True(queue.Ready.Writer.TryWrite(buffered));

            // Frozen: its clock stands still, so it neither heartbeats nor sees time pass. The live process's clock
            // passes the lease: it takes both jobs over, hands them back uncharged, and runs them.
            await using (var live = await StartHostAsync("live", liveClock))
            {
                liveClock.Advance(Lease + TimeSpan.FromSeconds(2));
                await Poll.UntilAsync(() => _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2") == 0, "the live process ran both jobs");
            }

            // Resumed: the clock jumps, job 1's handler returns, and the worker takes the buffered job 2.
            frozenClock.Advance(Frozen);
            running.SetResult();
            await Poll.UntilAsync(() => queue.Untaken == 0 && queue.Waiting == 1, "the resumed worker took the buffered job and waits for the next");
        }
        finally
        {
            running.TrySetResult();
        }

        Assert.Equal([("frozen", 1, 1)], _starts.Where(s => s.Process == "frozen"));
        Assert.Equal([("live", 1, 1), ("live", 2, 1)], _starts.Where(s => s.Process == "live").Order());
        Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
    }

    /// <summary>A process: a host with one worker, on <paramref name="clock"/>. Its handler records each start, then waits for <paramref name="hold"/>.</summary>
    private Task<JobQueueTestHost> StartHostAsync(string process, TimeProvider clock, Task? hold = null) => JobQueueTestHost.StartAsync((services, queue) =>
    {
        services.AddSingleton(clock);
        services.AddSingleton(new SqliteTestJobHandler.Behaviour((job, context) =>
        {
            _starts.Enqueue((process, job.Number, context.Attempt));
            return hold ?? Task.CompletedTask;
        }));
        queue.AddHandler<SqliteTestJob, SqliteTestJobHandler>(BareStore.Queue, q => q.MaxConcurrency = 1).UseSqlite(_database.ConnectionString, options =>
        {
            options.LeaseDuration = Lease;
            options.HeartbeatInterval = TimeSpan.FromSeconds(1);
            options.SweepInterval = TimeSpan.FromSeconds(1);
        });
    });
}
