namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>
/// The operations suite (status, cancel, pause, priorities, idle), in a fresh schema per test on the shared throwaway
/// server; every process a test starts opens the same schema.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlJobQueueOperationsConformanceTests(PostgreSqlServer server) : DurableJobQueueOperationsConformanceTests
{
    private static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    private readonly string _schema = PostgreSqlServer.NewSchema();

    protected override TimeSpan HeartbeatStep => Heartbeat;

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UsePostgreSql(server.ConnectionString, options =>
        {
            options.Schema = _schema;
            options.HeartbeatInterval = Heartbeat;
        });
}
