using AsyncQueue.Storage;
using AsyncQueue.Storage.InMemory;

namespace AsyncQueue.Tests.Engine;

/// <summary>
/// A parked in-memory consumer is woken by a job or by its stop token. It registers on the token once for its life,
/// not once per park, so these check that the one registration keeps working across parks and a change of token.
/// </summary>
public sealed class InMemoryConsumerTests
{
    // A guard against a hang, not a timing assertion: a correct consumer answers at once.
    private static readonly TimeSpan Patience = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task FetchAsync_ParkedManyTimesThenCancelled_ThrowsOperationCanceled()
    {
        var queue = new InMemoryQueue("q", new QueueOptions());
        var consumer = queue.OpenConsumer();
        using var stop = new CancellationTokenSource();

        // Each round parks (the queue is empty when the fetch starts) and is woken by the job enqueued after it.
        for (var i = 0; i < 1_000; i++)
        {
            var fetch = consumer.FetchAsync(stop.Token);
            Assert.False(fetch.IsCompleted);
            await queue.EnqueueAsync(ReadyJob.Of(NewRecord()), CancellationToken.None);
            Assert.Equal(1, (await fetch.AsTask().WaitAsync(Patience)).Attempt);
        }

        var parked = consumer.FetchAsync(stop.Token);
        Assert.False(parked.IsCompleted);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => parked.AsTask().WaitAsync(Patience));
    }

    [Fact]
    public async Task FetchAsync_TokenChanged_TheNewTokenCancelsAndTheOldOneNoLonger()
    {
        var queue = new InMemoryQueue("q", new QueueOptions());
        var consumer = queue.OpenConsumer();
        using var first = new CancellationTokenSource();
        using var second = new CancellationTokenSource();

        var fetch = consumer.FetchAsync(first.Token);
        await queue.EnqueueAsync(ReadyJob.Of(NewRecord()), CancellationToken.None);
        await fetch.AsTask().WaitAsync(Patience);

        // Parked on the second token: cancelling the first must leave it parked, so a job still reaches it.
        var parked = consumer.FetchAsync(second.Token);
        Assert.False(parked.IsCompleted);
        await first.CancelAsync();
        Assert.False(parked.IsCompleted);
        var record = NewRecord();
        await queue.EnqueueAsync(ReadyJob.Of(record), CancellationToken.None);
        Assert.Same(record, await parked.AsTask().WaitAsync(Patience));

        var cancelled = consumer.FetchAsync(second.Token);
        Assert.False(cancelled.IsCompleted);
        await second.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled.AsTask().WaitAsync(Patience));
    }

    private static JobRecord NewRecord() => new(JobId.NewId(), "kind", "q", new object(), DateTimeOffset.UnixEpoch);
}
