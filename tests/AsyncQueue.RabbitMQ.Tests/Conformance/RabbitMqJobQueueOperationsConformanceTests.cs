using System.Globalization;
using AsyncQueue.Testing;

namespace AsyncQueue.RabbitMQ.Tests.Conformance;

/// <summary>
/// The kit's operations suite (<see cref="DurableJobQueueOperationsConformanceTests"/>, with its continuations) through
/// whole job queues on the test broker, each test in a virtual host of its own, as <see cref="RabbitMqJobStoreConformanceTests"/>.
/// The store declares no <see cref="Storage.JobStoreCapabilities.JobStatus"/>, <see cref="Storage.JobStoreCapabilities.Pause"/>,
/// <see cref="Storage.JobStoreCapabilities.Priorities"/>, <see cref="Storage.JobStoreCapabilities.Continuations"/>,
/// <see cref="Storage.JobStoreCapabilities.IdempotencyKeys"/> or <see cref="Storage.JobStoreCapabilities.InjectedClock"/>:
/// the tests of those check that the job queue refuses them and loses no job; waiting for idle, and a failing job's
/// retry and dead letter (found by id in its dead-letter queue, the retry 2 seconds on the broker's clock), run as such.
/// </summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class RabbitMqJobQueueOperationsConformanceTests(RabbitMqServer server) : DurableJobQueueOperationsConformanceTests
{
    private readonly string _virtualHost = "ops-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>
    /// Only moves the fake clock: this store has no lease heartbeat (the broker's delivery is the lease), and the two
    /// tests that use it need job status, so here they check its refusal.
    /// </summary>
    protected override TimeSpan HeartbeatStep => TimeSpan.FromSeconds(1);

    public override async Task InitializeAsync()
    {
        await server.Server.CtlAsync("add_vhost", _virtualHost);
        await server.Server.CtlAsync("set_permissions", "-p", _virtualHost, "guest", ".*", ".*", ".*");
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await server.Server.CtlAsync("delete_vhost", _virtualHost);
    }

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UseRabbitMq(string.Create(CultureInfo.InvariantCulture, $"{server.Uri}{Uri.EscapeDataString(_virtualHost)}"));
}
