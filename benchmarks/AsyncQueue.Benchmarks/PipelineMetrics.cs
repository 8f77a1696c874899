using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks;

/// <summary>
/// The full pipeline's metrics listener: enables every instrument of the <c>AsyncQueue</c> meter created by this
/// container's <see cref="IMeterFactory"/> (so the engine pays for its counters, tags and histogram clocks) and
/// aggregates each measurement with one interlocked add, as cheap as a collector can be.
/// </summary>
/// <remarks>
/// A hosted service only so that the contender resolves it (and so starts listening) when it is built, and the
/// container disposes it with the queue. It filters on the meter's scope, so it never enables another contender's
/// meter in the same process.
/// </remarks>
internal sealed class PipelineMetrics : IHostedService, IDisposable
{
    private readonly MeterListener _listener = new();

    public PipelineMetrics(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == "AsyncQueue" && ReferenceEquals(instrument.Meter.Scope, meterFactory))
            {
                listener.EnableMeasurementEvents(instrument, new Total());
            }
        };
        _listener.SetMeasurementEventCallback<long>(static (_, value, _, state) => Interlocked.Add(ref ((Total)state!).Sum, value));
        _listener.SetMeasurementEventCallback<double>(static (_, _, _, state) => Interlocked.Increment(ref ((Total)state!).Sum));
        _listener.Start();
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _listener.Dispose();

    /// <summary>One instrument's running total (counters: the sum; histograms: the count).</summary>
    private sealed class Total
    {
        public long Sum;
    }
}
