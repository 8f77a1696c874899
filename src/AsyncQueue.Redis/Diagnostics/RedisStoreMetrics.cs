using System.Diagnostics.Metrics;

namespace AsyncQueue.Redis.Diagnostics;

/// <summary>
/// The store's instruments, on the core's meter (<c>AsyncQueue</c>), so that dashboards see one set of names whatever the
/// store; created through <see cref="IMeterFactory"/> when DI has one.
/// </summary>
internal sealed class RedisStoreMetrics : IDisposable
{
    private const string DestinationTag = "messaging.destination.name";

    private readonly Meter? _ownedMeter;

    public RedisStoreMetrics(IMeterFactory? meterFactory)
    {
        var meter = meterFactory is null ? _ownedMeter = new Meter("AsyncQueue") : meterFactory.Create("AsyncQueue");
        DeadLetterEvictions = meter.CreateCounter<long>("asyncqueue.dead_letter.evictions", "{job}", "Dead-lettered jobs evicted by the dead-letter queue's retention (age or count).");
        StatusEvictions = meter.CreateCounter<long>("asyncqueue.job.status.evicted", "{job}", "Finished jobs' statuses evicted before their retention ended, because the queue's FinishedJobCapacity was reached.");
    }

    public Counter<long> DeadLetterEvictions { get; }

    public Counter<long> StatusEvictions { get; }

    public static KeyValuePair<string, object?> Destination(string queue) => new(DestinationTag, queue);

    public void Dispose() => _ownedMeter?.Dispose();
}
