using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.RabbitMQ.Tests.Engine;

/// <summary>An event published once reaches every subscribed queue, each with its own handler, retries and dead letters.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class FanOutTests(RabbitMqServer server)
{
    [Fact]
    public async Task Publish_OnceToAnExchangeWithTwoQueues_EachHandlerRunsOnceAndOnlyTheFailingQueueRetriesAndDeadLetters()
    {
        var billing = RabbitMqServer.NewQueue();
        var shipping = RabbitMqServer.NewQueue();
        var exchange = "order-placed-" + RabbitMqServer.NewQueue();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TestRuns>();
        builder.Services.AddJobQueue()
            .AddHandler<BillOrder, BillOrderHandler>(billing, q => q.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(50)))
            .AddHandler<ShipOrder, ShipOrderHandler>(shipping, q => q.Retry = RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(50)))
            .UseRabbitMq(server.Uri, o => o
                .Subscribe(exchange, billing, "fan-out-bill")
                .Subscribe(exchange, shipping, "fan-out-ship"));
        using var host = builder.Build();
        await host.StartAsync();
        var events = host.Services.GetRequiredService<IRabbitMqEventPublisher>();
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        var runs = host.Services.GetRequiredService<TestRuns>();

        var shipped = await events.PublishAsync(exchange, new OrderPlaced(1, CannotShip: false));
        var stuck = await events.PublishAsync(exchange, new OrderPlaced(2, CannotShip: true));
        await Poll.UntilAsync(
            async () => runs.Snapshot().Count == 4 && await deadLetters.CountAsync(shipping + "-dead-letter") == 1,
            "both queues ran both events, and the one that cannot ship was dead-lettered in shipping only");
        await host.StopAsync();

        // Billing (numbers as they are) ran each event once; shipping (numbers + 100) ran order 1 once and order 2 three times.
        var all = runs.Snapshot();
        Assert.Equal([1], all[1]);
        Assert.Equal([1], all[2]);
        Assert.Equal([1], all[101]);
        Assert.Equal([1, 2, 3], all[102]);
        var dead = Assert.Single(await deadLetters.ListAsync(shipping + "-dead-letter"));
        Assert.Equal((stuck, shipping, new ShipOrder(2, true)), (dead.JobId, dead.Queue, (ShipOrder)dead.Job));
        Assert.NotEqual(shipped, stuck);
        Assert.Equal(0, await deadLetters.CountAsync(billing + "-dead-letter"));
        var bindings = await server.Server.CtlAsync("list_bindings", "source_name", "destination_name");
        Assert.Contains(exchange + "\t" + billing, bindings, StringComparison.Ordinal);
        Assert.Contains(exchange + "\t" + shipping, bindings, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SubscriptionOfAnUnknownKind_FailsNamingIt()
    {
        var queue = RabbitMqServer.NewQueue();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<TestRuns>();
        builder.Services.AddJobQueue()
            .AddHandler<BillOrder, BillOrderHandler>(queue)
            .UseRabbitMq(server.Uri, o => o.Subscribe("orders-" + queue, queue, "no-such-kind"));
        using var host = builder.Build();

        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => host.StartAsync());

        Assert.Contains("'no-such-kind'", failure.Message, StringComparison.Ordinal);
        Assert.Contains("RabbitMqStoreOptions.Subscribe", failure.Message, StringComparison.Ordinal);
    }
}

/// <summary>The event: one order placed.</summary>
public sealed record OrderPlaced(int Number, bool CannotShip);

/// <summary>Billing's view of the event.</summary>
[JobKind("fan-out-bill")]
public sealed record BillOrder(int Number, bool CannotShip);

/// <summary>Shipping's view of the event.</summary>
[JobKind("fan-out-ship")]
public sealed record ShipOrder(int Number, bool CannotShip);

public sealed class BillOrderHandler(TestRuns runs) : IJobHandler<BillOrder>
{
    public Task HandleAsync(BillOrder job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(job.Number, context.Attempt);
        return Task.CompletedTask;
    }
}

public sealed class ShipOrderHandler(TestRuns runs) : IJobHandler<ShipOrder>
{
    public Task HandleAsync(ShipOrder job, JobContext context, CancellationToken cancellationToken)
    {
        runs.Add(100 + job.Number, context.Attempt);
        return job.CannotShip ? throw new InvalidOperationException($"order {job.Number} cannot ship") : Task.CompletedTask;
    }
}
