using System.Globalization;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>
/// The prefetch deeper than the workers (<see cref="RabbitMqStoreOptions.PrefetchCount"/>) and the coalesced acks, read
/// off the broker itself (<c>rabbitmqctl list_queues</c>, whose statistics lag a moment, hence the polls): a multiple ack never covers a job still running, jobs settled
/// out of order are all acked without a channel error, and the jobs taken ahead are handed back on dispose, once each.
/// </summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class PrefetchAndAckTests(RabbitMqServer server)
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);
    private readonly string _queue = RabbitMqServer.NewQueue();

    [Fact]
    public async Task Subscribe_PrefetchCountAboveMaxConcurrency_TakesThatManyAhead()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue, o => o.PrefetchCount = 20);
        var store = process.GetRequiredService<IJobStore>();
        await store.EnqueueBatchAsync([.. Enumerable.Range(0, 30).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None);

        // MaxConcurrency is 4; the broker hands over 20 at once, and only one is fetched.
        var fetched = await store.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        await Poll.UntilAsync(async () => await MessagesAsync() == (10, 20), "the broker shows 20 jobs taken ahead and 10 ready");
        Assert.Equal(29, (await store.CountAsync(_queue, CancellationToken.None)).Waiting);
        await store.CompleteAsync(fetched, CancellationToken.None);
    }

    [Fact]
    public async Task Complete_LaterJobWhileEarlierRuns_NeverAcksTheEarlierAndItIsRedeliveredAfterTheCrash()
    {
        var crashed = RabbitMqProcess.Build(server.Uri, _queue);
        var crashedStore = crashed.GetRequiredService<IJobStore>();
        await crashedStore.EnqueueBatchAsync([RabbitMqProcess.NewJob(_queue, 0), RabbitMqProcess.NewJob(_queue, 1)], CancellationToken.None);
        var consumer = crashedStore.OpenConsumer(_queue);
        var running = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        var later = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        // Job 1 settles while job 0 still runs: its ack goes out alone (a multiple ack of its tag would take job 0 too).
        await crashedStore.CompleteAsync(later, CancellationToken.None);
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 1), "job 1 is acked and job 0 still held");

        // The process dies with job 0 running: the broker gives it back, and it runs again with the crash counted.
        await crashed.DisposeAsync();
        await using var survivor = RabbitMqProcess.Build(server.Uri, _queue);
        var store = survivor.GetRequiredService<IJobStore>();
        var again = await store.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(again, CancellationToken.None);

        Assert.Equal((new TestJob(0), 2), ((TestJob)again.Job, again.Attempt));
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 0), "the queue is empty: job 1 did not come back");
    }

    [Fact]
    public async Task Complete_OutOfOrderThenTheGapCloses_AcksEveryJobOnOneChannelWithoutAChannelError()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();
        await store.EnqueueBatchAsync([.. Enumerable.Range(0, 4).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None);
        var consumer = store.OpenConsumer(_queue);
        var jobs = new List<JobRecord>();
        for (var i = 0; i < 4; i++)
        {
            jobs.Add(await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard));
        }

        // Jobs 2 and 1 settle behind job 0 and are acked alone; then job 0 settles, which closes the gap up to job 2:
        // the ack that follows must name job 0's tag, not job 2's (a tag acked before is refused by closing the
        // channel, which would put job 3 back as ready).
        await store.CompleteAsync(jobs[2], CancellationToken.None);
        await store.CompleteAsync(jobs[1], CancellationToken.None);
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 2), "jobs 1 and 2 are acked while job 0 runs");
        await store.CompleteAsync(jobs[0], CancellationToken.None);
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 1), "job 0 is acked and job 3 still held");
        await store.CompleteAsync(jobs[3], CancellationToken.None);
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 0), "every job is acked");

        // The channel is still the same one: a new job is delivered on it and acked.
        await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 4), CancellationToken.None);
        var next = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(next, CancellationToken.None);
        Assert.Equal((new TestJob(4), 1), ((TestJob)next.Job, next.Attempt));
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 0), "the new job is acked");
    }

    [Fact]
    public async Task Dispose_WithJobsTakenAheadAndOneRunning_HandsBackEachOnceUnchargedAndNothingIsLost()
    {
        var first = RabbitMqProcess.Build(server.Uri, _queue, o => o.PrefetchCount = 50);
        var firstStore = first.GetRequiredService<IJobStore>();
        await firstStore.EnqueueBatchAsync([.. Enumerable.Range(0, 30).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None);
        var consumer = firstStore.OpenConsumer(_queue);
        var done = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        var running = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await firstStore.CompleteAsync(done, CancellationToken.None);
        await Poll.UntilAsync(async () => await MessagesAsync() == (0, 29), "all 30 were taken ahead and job 0 is acked");

        // Disposed with job 1 still running and 28 never started.
        await first.DisposeAsync();

        // Each job once: the 28 handed back (republished, their deliveries acked) and job 1, put back by the broker.
        // Polled: the broker's queue statistics lag a moment behind its queue.
        await Poll.UntilAsync(async () => await MessagesAsync() == (29, 0), "29 jobs are ready and none is held");
        await using var second = RabbitMqProcess.Build(server.Uri, _queue);
        var store = second.GetRequiredService<IJobStore>();
        var secondConsumer = store.OpenConsumer(_queue);
        var rerun = new Dictionary<int, JobRecord>();
        for (var i = 0; i < 29; i++)
        {
            var job = await secondConsumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            rerun.Add(((TestJob)job.Job).Number, job);
            await store.CompleteAsync(job, CancellationToken.None);
        }

        Assert.Equal(Enumerable.Range(1, 29), rerun.Keys.Order());
        Assert.Equal(2, rerun[1].Attempt);
        Assert.All(rerun.Where(r => r.Key != 1).Select(r => r.Value), job => Assert.Equal((1, 0), (job.Attempt, job.Errors.Count)));
        Assert.Equal(running.Id, rerun[1].Id);
    }

    /// <summary>
    /// Workers that open their consumers at the same moment share one subscription: a second one, which no worker
    /// reads, would take a prefetch of jobs ahead and hold them until the process ends. Several rounds, each a new
    /// process whose 16 consumers are opened at once, each round's jobs all fetched through them.
    /// </summary>
    [Fact]
    public async Task OpenConsumer_ByManyWorkersAtOnce_SubscribesOnceSoNoJobIsHeldWhereNoWorkerReads()
    {
        const int Jobs = 60;
        for (var round = 0; round < 10; round++)
        {
            await using var process = RabbitMqProcess.Build(server.Uri, _queue, o => o.PrefetchCount = 20);
            var store = process.GetRequiredService<IJobStore>();
            await store.EnqueueBatchAsync([.. Enumerable.Range(0, Jobs).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None);

            using var start = new Barrier(16);
            var consumers = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() =>
            {
                start.SignalAndWait();
                return store.OpenConsumer(_queue);
            })));

            for (var i = 0; i < Jobs; i++)
            {
                var job = await consumers[i % consumers.Length].FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
                await store.CompleteAsync(job, CancellationToken.None);
            }

            await Poll.UntilAsync(async () => await MessagesAsync() == (0, 0), $"round {round}: every job was fetched and acked, none is held by a second subscription");
        }
    }

    /// <summary>The queue's ready and unacked message counts, as the broker has them.</summary>
    private async Task<(long Ready, long Unacked)> MessagesAsync()
    {
        var listing = await server.Server.CtlAsync("list_queues", "name", "messages_ready", "messages_unacknowledged");
        var fields = listing.Split('\n').Select(line => line.Split('\t')).Single(f => f[0] == _queue);
        return (long.Parse(fields[1], CultureInfo.InvariantCulture), long.Parse(fields[2], CultureInfo.InvariantCulture));
    }
}
