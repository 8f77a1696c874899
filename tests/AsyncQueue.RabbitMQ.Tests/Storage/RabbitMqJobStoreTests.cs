using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using RabbitMQ.Client.Exceptions;

namespace AsyncQueue.RabbitMQ.Tests.Storage;

/// <summary>The store's own promises on a real broker: confirmed enqueue, retries through the delay queues, dead letters, and a lost connection's redelivery counted as an attempt.</summary>
[Collection(RabbitMqServerGroup.Name)]
public sealed class RabbitMqJobStoreTests(RabbitMqServer server)
{
    private static readonly TimeSpan Guard = TimeSpan.FromMinutes(2);
    private static readonly DeadLetterTarget DeadLetters = new("conformance-dead", TimeSpan.FromDays(1), 3);
    private readonly string _queue = RabbitMqServer.NewQueue();

    [Fact]
    public async Task Fetch_AfterEnqueue_ReturnsJobAsFirstAttemptWithItsFields()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();
        var job = RabbitMqProcess.NewJob(_queue, 7);

        await store.EnqueueAsync(job, CancellationToken.None);
        var fetched = await store.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(fetched, CancellationToken.None);

        Assert.Equal(job.Id, fetched.Id);
        Assert.Equal("rabbit-test", fetched.Kind);
        Assert.Equal(new TestJob(7), fetched.Job);
        Assert.Equal(1, fetched.Attempt);
        Assert.Equal(job.EnqueuedAt, fetched.EnqueuedAt);
        Assert.Empty(fetched.Errors);
        Assert.Equal(0, (await store.CountAsync(_queue, CancellationToken.None)).Waiting);
        Assert.Contains("quorum", await server.Server.CtlAsync("list_queues", "name", "type"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task EnqueueBatch_ThousandJobs_AllConfirmedAndFetchedInOrder()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();

        var results = await store.EnqueueBatchAsync([.. Enumerable.Range(0, 1_000).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None);

        Assert.All(results, r => Assert.True(r.Accepted));
        Assert.Equal(1_000, (await store.CountAsync(_queue, CancellationToken.None)).Waiting);
        var consumer = store.OpenConsumer(_queue);
        for (var i = 0; i < 1_000; i++)
        {
            var fetched = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            Assert.Equal(new TestJob(i), fetched.Job);
            await store.CompleteAsync(fetched, CancellationToken.None);
        }
    }

    [Fact]
    public async Task Enqueue_QueueDeletedUnderTheStore_ThrowsReturnedAndThePublisherGoesOn()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();
        await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 0), CancellationToken.None);
        await server.Server.CtlAsync("delete_queue", _queue);

        // Mandatory publishes that no queue takes come back (basic.return) before their confirm: each call fails.
        var single = await Assert.ThrowsAsync<PublishReturnException>(() => store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 1), CancellationToken.None).AsTask().WaitAsync(Guard));
        var batch = await Assert.ThrowsAsync<PublishReturnException>(() => store.EnqueueBatchAsync([.. Enumerable.Range(2, 3).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None).AsTask().WaitAsync(Guard));

        // Declared again by a second store: the first one's publisher still confirms, with nothing left over from the failures.
        await using var redeclaring = RabbitMqProcess.Build(server.Uri, _queue);
        await redeclaring.GetRequiredService<IJobStore>().CountAsync(_queue, CancellationToken.None);
        var results = await store.EnqueueBatchAsync([.. Enumerable.Range(5, 10).Select(i => RabbitMqProcess.NewJob(_queue, i))], CancellationToken.None).AsTask().WaitAsync(Guard);

        Assert.Equal(_queue, single.RoutingKey);
        Assert.Equal(_queue, batch.RoutingKey);
        Assert.All(results, r => Assert.True(r.Accepted));
        Assert.Equal(10, (await store.CountAsync(_queue, CancellationToken.None)).Waiting);
    }

    [Fact]
    public async Task Reschedule_WithDelay_ComesBackThroughItsDelayQueueWithAttemptAndErrors()
    {
        // A clock that stands still: the delay is exactly 300 ms however long this process is paused.
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var process = RabbitMqProcess.Build(server.Uri, _queue, time: clock);
        var store = process.GetRequiredService<IJobStore>();
        var consumer = store.OpenConsumer(_queue);
        await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 1), CancellationToken.None);
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        first.AddError(new JobError(1, clock.GetUtcNow(), "System.InvalidOperationException", "boom", "at Handler()"));
        await store.RescheduleAsync(first, clock.GetUtcNow().AddMilliseconds(300), CancellationToken.None);
        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(second, CancellationToken.None);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(2, second.Attempt);
        var error = Assert.Single(second.Errors);
        Assert.Equal(("System.InvalidOperationException", "boom", "at Handler()"), (error.ExceptionType, error.Message, error.StackTrace));
        Assert.Contains(_queue + ".delay.320ms", await server.Server.CtlAsync("list_queues", "name"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Enqueue_NotBeforeInFuture_WaitsInTheBrokerThenRuns()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var process = RabbitMqProcess.Build(server.Uri, _queue, time: clock);
        var store = process.GetRequiredService<IJobStore>();

        // The broker holds it for its TTL (2 s rounded up to 2,048 ms) of real time, in its delay queue.
        await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 3, clock.GetUtcNow().AddSeconds(2)), CancellationToken.None);
        var counts = await store.CountAsync(_queue, CancellationToken.None);
        var fetched = await store.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(fetched, CancellationToken.None);

        // Scheduled until its TTL passes, then waiting: counted once, in whichever state the count found it.
        Assert.Equal(1, counts.Waiting + counts.Scheduled);
        Assert.Equal(1, fetched.Attempt);
        Assert.Contains(_queue + ".delay.2048ms", await server.Server.CtlAsync("list_queues", "name"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetterQueue_ListGetRequeueDeletePurge_Work()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();
        var deadQueue = _queue + "-dead";
        var target = DeadLetters with { Name = deadQueue, Capacity = 100 };
        var consumer = store.OpenConsumer(_queue);
        var ids = new List<JobId>();
        for (var i = 0; i < 3; i++)
        {
            await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, i), CancellationToken.None);
            var fetched = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
            fetched.AddError(new JobError(1, TimeProvider.System.GetUtcNow(), "System.Exception", "failed " + i, null));
            var entry = await store.DeadLetterAsync(fetched, target, CancellationToken.None);
            Assert.Equal(deadQueue, entry.DeadLetterQueue);
            ids.Add(fetched.Id);
        }

        var listed = await store.DeadLetters.ListAsync(deadQueue);
        var got = await store.DeadLetters.GetAsync(ids[1]);
        Assert.True(ids.SequenceEqual(listed.Select(e => e.JobId)), $"ids {string.Join(",", ids)} listed {string.Join(",", listed.Select(e => e.JobId))}");
        Assert.Equal(3, await store.DeadLetters.CountAsync(deadQueue));
        Assert.Equal("failed 1", Assert.Single(got!.Errors).Message);
        Assert.Equal((_queue, 1, new TestJob(1)), (got.Queue, got.Attempts, (TestJob)got.Job));
        Assert.Equal([ids[1]], (await store.DeadLetters.ListAsync(deadQueue, skip: 1, take: 1)).Select(e => e.JobId));

        Assert.True(await store.DeadLetters.RequeueAsync(ids[0]));
        var requeued = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(requeued, CancellationToken.None);
        Assert.Equal((ids[0], 1), (requeued.Id, requeued.Attempt));
        Assert.Equal("failed 0", Assert.Single(requeued.Errors).Message);

        Assert.True(await store.DeadLetters.DeleteAsync(ids[1]));
        Assert.False(await store.DeadLetters.DeleteAsync(ids[1]));
        Assert.Equal([ids[2]], (await store.DeadLetters.ListAsync(deadQueue)).Select(e => e.JobId));
        Assert.Equal(1, await store.DeadLetters.PurgeAsync(deadQueue));
        Assert.Equal(0, await store.DeadLetters.CountAsync(deadQueue));
    }

    [Fact]
    public async Task DeadLetter_AfterRetries_ReachesItsQueueThroughTheBrokersDeadLetterExchangeWithEveryError()
    {
        var clock = new FakeTimeProvider(TimeProvider.System.GetUtcNow());
        await using var process = RabbitMqProcess.Build(server.Uri, _queue, time: clock);
        var store = process.GetRequiredService<IJobStore>();
        var deadQueue = _queue + "-failed";
        var consumer = store.OpenConsumer(_queue);
        await store.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 4), CancellationToken.None);
        var first = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        first.AddError(new JobError(1, clock.GetUtcNow(), "System.TimeoutException", "first", null));
        await store.RescheduleAsync(first, clock.GetUtcNow(), CancellationToken.None);
        var second = await consumer.FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        second.AddError(new JobError(2, clock.GetUtcNow(), "System.InvalidOperationException", "for good", null));

        await store.DeadLetterAsync(second, DeadLetters with { Name = deadQueue }, CancellationToken.None);

        // Read raw off the broker: the message came through the give-up queue's DLX (x-death), not a publish into the queue.
        var factory = new global::RabbitMQ.Client.ConnectionFactory { Uri = new Uri(server.Uri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var message = await channel.BasicGetAsync(deadQueue, autoAck: false);
        Assert.NotNull(message);
        var headers = message.BasicProperties.Headers!;
        Assert.Equal(deadQueue + ".give-up", System.Text.Encoding.UTF8.GetString((byte[])headers["x-first-death-queue"]!));
        Assert.Equal("expired", System.Text.Encoding.UTF8.GetString((byte[])headers["x-first-death-reason"]!));
        await channel.BasicNackAsync(message.DeliveryTag, multiple: false, requeue: true);
        await Poll.UntilAsync(async () => await store.DeadLetters.CountAsync(deadQueue) == 1, "the dead letter is back in its queue");

        var dead = Assert.Single(await store.DeadLetters.ListAsync(deadQueue));
        Assert.Equal((second.Id, 2), (dead.JobId, dead.Attempts));
        Assert.Equal(["first", "for good"], dead.Errors.Select(e => e.Message));
        var arguments = await server.Server.CtlAsync("list_queues", "name", "arguments");
        var giveUp = Assert.Single(arguments.Split('\n'), line => line.StartsWith(deadQueue + ".give-up", StringComparison.Ordinal));
        Assert.Contains("at-least-once", giveUp, StringComparison.Ordinal);
        Assert.Contains("reject-publish", giveUp, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LostConnection_WhileJobRuns_RedeliversItWithTheCrashedAttemptCountedAndFencesOutTheLateOutcome()
    {
        var crashed = RabbitMqProcess.Build(server.Uri, _queue);
        var crashedStore = crashed.GetRequiredService<IJobStore>();
        await crashedStore.EnqueueAsync(RabbitMqProcess.NewJob(_queue, 5), CancellationToken.None);
        var held = await crashedStore.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);

        // Its connection closes with the job unacked, as when the process dies: the broker puts the message back.
        await crashed.DisposeAsync();
        await using var survivor = RabbitMqProcess.Build(server.Uri, _queue);
        var store = survivor.GetRequiredService<IJobStore>();
        var again = await store.OpenConsumer(_queue).FetchAsync(CancellationToken.None).AsTask().WaitAsync(Guard);
        await store.CompleteAsync(again, CancellationToken.None);

        Assert.Equal(held.Id, again.Id);
        Assert.Equal(2, again.Attempt);
        var error = Assert.Single(again.Errors);
        Assert.Equal((1, typeof(JobLeaseExpiredException).FullName), (error.Attempt, error.ExceptionType));
        await Assert.ThrowsAsync<JobLeaseLostException>(() => crashedStore.CompleteAsync(held, CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Enqueue_WithIdempotencyKey_ThrowsNotSupportedNamingTheOption()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();
        var job = new JobRecord(JobId.NewId(), "rabbit-test", _queue, new TestJob(1), TimeProvider.System.GetUtcNow()) { IdempotencyKey = "k" };

        var failure = await Assert.ThrowsAsync<NotSupportedException>(() => store.EnqueueAsync(job, CancellationToken.None).AsTask());

        Assert.Contains("EnqueueOptions.IdempotencyKey", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StatusCancelAndPause_AreDeclaredUnsupported()
    {
        await using var process = RabbitMqProcess.Build(server.Uri, _queue);
        var store = process.GetRequiredService<IJobStore>();

        await Assert.ThrowsAsync<NotSupportedException>(() => store.GetJobAsync(JobId.NewId(), CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<NotSupportedException>(() => store.CancelAsync(JobId.NewId(), CancellationToken.None).AsTask());
        await Assert.ThrowsAsync<NotSupportedException>(() => store.SetPausedAsync(_queue, paused: true, CancellationToken.None).AsTask());
    }
}
