using AsyncQueue.Conformance;

namespace AsyncQueue.PostgreSql.Tests.Storage;

/// <summary>The shared store contract, in a fresh schema per test on the shared throwaway server.</summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class PostgreSqlJobStoreConformanceTests(PostgreSqlServer server) : JobStoreConformanceTests
{
    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UsePostgreSql(server.ConnectionString, options => options.Schema = PostgreSqlServer.NewSchema());
}
