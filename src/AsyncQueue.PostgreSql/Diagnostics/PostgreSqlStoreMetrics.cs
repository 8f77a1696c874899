using System.Diagnostics.Metrics;

namespace AsyncQueue.PostgreSql.Diagnostics;

/// <summary>
/// The store's instruments, on the core's meter (<c>AsyncQueue</c>), so that dashboards see one set of names whatever the
/// store; created through <see cref="IMeterFactory"/> when DI has one.
/// </summary>
internal sealed class PostgreSqlStoreMetrics : IDisposable
{
    private const string DestinationTag = "messaging.destination.name";

    private readonly Meter? _ownedMeter;

    public PostgreSqlStoreMetrics(IMeterFactory? meterFactory)
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

        StatusEvictions = meter.CreateCounter<long>("asyncqueue.job.status.evicted", "{job}", "Finished jobs whose status was evicted before its retention, beyond the queue's FinishedJobCapacity.");
    }

    public Counter<long> StatusEvictions { get; }

    public static KeyValuePair<string, object?> Destination(string queue) => new(DestinationTag, queue);

    public void Dispose() => _ownedMeter?.Dispose();
}
