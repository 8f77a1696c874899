namespace AsyncQueue.Sqlite.Tests.Crash;

/// <summary>
/// Issue 17: a job running in a worker process (a real child process) is cancelled from this process through the
/// store: the worker's lease heartbeat finds the request, its dispatcher cancels the handler's token, and the job ends
/// cancelled, neither retried nor dead-lettered.
/// </summary>
public sealed class CancelAcrossProcessesTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task Cancel_JobRunningInWorkerProcess_FiresItsTokenThereAndEndsCancelled()
    {
        // The child's lease is 2 seconds, so its heartbeat comes every half second of real time. This process only
        // operates: a bare store on the same file, with no dispatcher, so its sweeper never takes the child's leases over.
        var worker = ChildProcess.Start("cancel", "--sqlite", _database.FilePath, "--enqueue");
        await using (worker)
        {
            var id = JobId.Parse((await worker.WaitForMarkerAsync("enqueued "))["enqueued ".Length..]);
            Assert.Equal($"started {id} 1", await worker.WaitForMarkerAsync("started "));
            await using var admin = BareStore.Open(_database, TimeProvider.System);
            Assert.Equal((JobState.Running, false), await StateAsync(admin, id));

            Assert.Equal(CancelJobResult.CancellationRequested, await admin.Store.CancelAsync(id, CancellationToken.None));

            Assert.Equal($"cancelled {id}", await worker.WaitForMarkerAsync("cancelled "));
            await Poll.UntilAsync(async () => (await StateAsync(admin, id)).State == JobState.Cancelled, "the worker settled the job as cancelled");
            var info = await admin.Store.GetJobAsync(id, CancellationToken.None);
            Assert.Equal((1, true), (info!.Attempt, info.CancellationRequested));
            Assert.NotNull(info.FinishedAt);
            Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_dead_letters"));
            Assert.Equal(0, _database.Scalar("SELECT COUNT(*) FROM asyncqueue_jobs WHERE state < 2"));
            await worker.StopAsync();
        }
    }

    private static async Task<(JobState State, bool CancellationRequested)> StateAsync(BareStore store, JobId id)
    {
        var info = await store.Store.GetJobAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"Job {id} has no status.");
        return (info.State, info.CancellationRequested);
    }
}
