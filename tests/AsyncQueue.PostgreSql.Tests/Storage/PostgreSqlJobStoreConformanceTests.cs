namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// The durable store contract, in a fresh schema per test on the shared throwaway server; every process a test starts
/// (<see cref="DurableJobStoreConformanceTests.StartProcess"/>, a restart) opens the same schema.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlJobStoreConformanceTests(PostgreSqlServer server) : DurableJobStoreConformanceTests
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(5);

    private readonly string _schema = PostgreSqlServer.NewSchema();

    protected override TimeSpan LeaseExpiry => LeaseDuration + SweepInterval + TimeSpan.FromSeconds(1);

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UsePostgreSql(server.ConnectionString, options =>
        {
            options.Schema = _schema;
            options.LeaseDuration = LeaseDuration;
            options.HeartbeatInterval = TimeSpan.FromSeconds(10);
            options.SweepInterval = SweepInterval;

            // The contract's settle-then-observe steps (a completion, then the row's count, its key, a late outcome
            // fenced out) need CompleteAsync to return once the completion committed. The default, queued completions,
            // is the opt-in the contract allows (docs/delivery.md); the multi-process tests run it.
            options.AsynchronousCompletions = false;
        });
}
