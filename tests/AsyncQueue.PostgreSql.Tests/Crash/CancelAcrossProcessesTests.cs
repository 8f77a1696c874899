using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Crash;

/// <summary>
/// Issue 17: a job running in a worker process (a real child process) is cancelled from this process through the
/// store: the worker's store hears the request (its notification, else its next lease heartbeat), its dispatcher
/// cancels the handler's token, and the job ends cancelled, neither retried nor dead-lettered.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class CancelAcrossProcessesTests(PostgreSqlServer server)
{
    private readonly string _schema = PostgreSqlServer.NewSchema();

    [Fact]
    public async Task Cancel_JobRunningInWorkerProcess_FiresItsTokenThereAndEndsCancelled()
    {
        // This process only operates: a store on the same schema with no dispatcher, so it never takes the child's
        // leases over (its sweeper's clock stands still anyway).
        var worker = ChildProcess.Start("cancel", "--postgres", server.ConnectionString, "--schema", _schema, "--enqueue");
        await using (worker)
        {
            var id = JobId.Parse((await worker.WaitForMarkerAsync("enqueued "))["enqueued ".Length..]);
            Assert.Equal($"started {id} 1", await worker.WaitForMarkerAsync("started "));
            await using var admin = StoreProcess.Open(server.ConnectionString, _schema);
            Assert.Equal(JobState.Running, (await admin.GetAsync(id)).State);

            Assert.Equal(CancelJobResult.CancellationRequested, await admin.Store.CancelAsync(id, CancellationToken.None));

            Assert.Equal($"cancelled {id}", await worker.WaitForMarkerAsync("cancelled "));
            await Poll.UntilAsync(async () => (await admin.GetAsync(id)).State == JobState.Cancelled, "the worker settled the job as cancelled");
            var info = await admin.GetAsync(id);
            Assert.Equal((1, true), (info.Attempt, info.CancellationRequested));
            Assert.NotNull(info.FinishedAt);
            Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.dead_letters"));
            Assert.Equal(0L, await ScalarAsync($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state < 2"));
            await worker.StopAsync();
        }
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var command = dataSource.CreateCommand(sql);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
