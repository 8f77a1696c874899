using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// AsyncQueue on <c>UseRabbitMq(uri)</c> with the store's defaults: a durable quorum queue of persistent messages, every
/// enqueue returning after the broker's publisher confirm, the given prefetch (<c>PrefetchCount</c>), and each delivery
/// acked after the handler's outcome (the store coalesces the acks of settled deliveries). Batches go through <c>EnqueueBatchAsync</c>, whose publishes share their confirm waits.
/// </summary>
internal sealed class AsyncQueueRabbitMqContender : IBatchContender
{
    private readonly AsyncQueueContender _contender;

    public AsyncQueueRabbitMqContender(string uri, string queue, int workers, ushort prefetch)
    {
        _contender = new AsyncQueueContender((services, completion) =>
        {
            // A singleton handler, as in the other store scenarios: the store and the broker are what is measured.
            services.AddSingleton<IJobHandler<Job>>(new NoOpHandler(completion));
            services.AddJobQueue()
                .AddHandler<Job, NoOpHandler>(queue, options => options.MaxConcurrency = workers)
                .UseRabbitMq(uri, options => options.PrefetchCount = prefetch);
        });
    }

    public string Label => "AsyncQueue.RabbitMQ";

    public Completion Completion => _contender.Completion;

    public Task StartAsync() => _contender.StartAsync();

    public ValueTask EnqueueAsync(Job job) => _contender.EnqueueAsync(job);

    public async Task EnqueueBatchAsync(IReadOnlyList<Job> jobs) => await _contender.Queue.EnqueueBatchAsync(jobs);

    public ValueTask DisposeAsync() => _contender.DisposeAsync();
}
