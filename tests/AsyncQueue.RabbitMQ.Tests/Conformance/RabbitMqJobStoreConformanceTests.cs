using System.Globalization;
using AsyncQueue.RabbitMQ.Storage;
using AsyncQueue.Storage;
using AsyncQueue.Testing;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.RabbitMQ.Tests.Conformance;

/// <summary>
/// The store contract for durable stores (the conformance kit's <see cref="DurableJobStoreConformanceTests"/>, with
/// <see cref="JobStoreConformanceTests"/>) on the test broker, each test in a virtual host of its own: the kit's queue
/// names are fixed, and a vhost gives every test its own queues, exchanges and bindings, which deleting it removes
/// whole. What the store lacks it declares (no <see cref="JobStoreCapabilities.IdempotencyKeys"/>, no
/// <see cref="JobStoreCapabilities.InjectedClock"/>, no <see cref="JobStoreCapabilities.ExpiringLeases"/>), and the kit
/// checks the refusal, the delay on the broker's clock, or the broker's redelivery, instead.
/// </summary>
/// <remarks>
/// A crash is the first process's connection aborted (<see cref="CrashAsync"/>): no close handshake, no recovery and
/// nothing handed back, as when the process dies, so the broker puts its unacked deliveries back and redelivers them,
/// counted, to the other process's consumer.
/// </remarks>
[Collection(RabbitMqServerGroup.Name)]
public sealed class RabbitMqJobStoreConformanceTests(RabbitMqServer server) : DurableJobStoreConformanceTests
{
    private readonly string _virtualHost = "kit-" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Not read: this store's leases do not expire on a clock, and <see cref="CrashAsync"/> cuts the connection instead.</summary>
    protected override TimeSpan LeaseExpiry => TimeSpan.Zero;

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

    protected override Task CrashAsync(FakeTimeProvider survivorTime) => ((RabbitMqJobStore)Store).AbortAsync();

    protected override void ConfigureStore(IJobQueueBuilder builder) =>
        builder.UseRabbitMq(string.Create(CultureInfo.InvariantCulture, $"{server.Uri}{Uri.EscapeDataString(_virtualHost)}"));
}
