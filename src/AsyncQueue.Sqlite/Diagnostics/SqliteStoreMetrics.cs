using System.Diagnostics.Metrics;

namespace AsyncQueue.Sqlite.Diagnostics;

/// <summary>
/// The store's instruments, on the core's meter (<c>AsyncQueue</c>), so that dashboards see one set of names whatever the
/// store; created through <see cref="IMeterFactory"/> when DI has one.
/// </summary>
internal sealed class SqliteStoreMetrics : IDisposable
{
    private const string DestinationTag = "messaging.destination.name";

    private readonly Meter? _ownedMeter;

    public SqliteStoreMetrics(IMeterFactory? meterFactory)
    {
        Meter meter;
        if (meterFactory is null)
        {
            meter = _ownedMeter = new Meter("AsyncQueue");
        }
        else
        {
            meter = meterFactory.Create("AsyncQueue");
        }

        DeadLetterEvictions = meter.CreateCounter<long>("asyncqueue.dead_letter.evictions", "{job}", "Dead-lettered jobs evicted by the dead-letter queue's retention (age or count).");
        StatusEvictions = meter.CreateCounter<long>("asyncqueue.job.status.evicted", "{job}", "Finished jobs whose status was evicted before its retention, beyond the queue's FinishedJobCapacity.");
    }

    public Counter<long> DeadLetterEvictions { get; }

    public Counter<long> StatusEvictions { get; }

    public static KeyValuePair<string, object?> Destination(string queue) => new(DestinationTag, queue);

    public void Dispose() => _ownedMeter?.Dispose();
}
