using System.Globalization;
using AsyncQueue.Testing;

namespace AsyncQueue.RabbitMQ.Tests.Conformance;

/// <summary>
/// The store contract (the conformance kit's <see cref="JobStoreConformanceTests"/>) on the test broker, each test in a
/// virtual host of its own: the kit's queue names are fixed, and a vhost gives every test its own queues, exchanges
/// and bindings, which deleting it removes whole. What the store lacks it declares (no
/// <see cref="Storage.JobStoreCapabilities.IdempotencyKeys"/>, no <see cref="Storage.JobStoreCapabilities.InjectedClock"/>),
/// and the kit checks the refusal, or the delay on the broker's clock, instead.
/// </summary>
/// <remarks>
/// Not the durable suite (<see cref="DurableJobStoreConformanceTests"/>): its tests play a crash by letting a lease
/// expire on a fake clock, where this store's lease is the broker's delivery, ended by a lost connection (see
/// <c>KillTests</c> and <c>RabbitMqJobStoreTests</c>).
/// </remarks>
[Collection(RabbitMqServerGroup.Name)]
public sealed class RabbitMqJobStoreConformanceTests(RabbitMqServer server) : JobStoreConformanceTests
{
    private readonly string _virtualHost = "kit-" + Guid.NewGuid().ToString("N")[..12];

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
