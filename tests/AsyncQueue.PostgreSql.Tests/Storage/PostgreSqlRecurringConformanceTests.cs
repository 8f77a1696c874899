namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>The recurring conformance test on one PostgreSQL schema shared by two job queues.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlRecurringConformanceTests(PostgreSqlServer server) : RecurringConformanceTests
{
    private readonly string _schema = PostgreSqlServer.NewSchema();

    protected override void ConfigureStore(IJobQueueBuilder builder) => builder.UsePostgreSql(server.ConnectionString, options => options.Schema = _schema);
}
