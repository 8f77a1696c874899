using AsyncQueue;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// A native-AOT build of a typical setup: handlers, a retry policy, an idempotency key, a dead-letter queue, health checks.
const int Jobs = 1_000;
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var done = new Done(Jobs);
builder.Services.AddSingleton(done);
builder.Services.AddHealthChecks().AddJobQueue();
builder.Services.AddJobQueue()
    .AddHandler<Square, SquareHandler>(q =>
    {
        q.MaxConcurrency = 4;
        q.Retry = RetryPolicy.Exponential(2, TimeSpan.FromMilliseconds(10));
    });

using var host = builder.Build();
await host.StartAsync();
var queue = host.Services.GetRequiredService<IJobQueue>();
for (var i = 0; i < Jobs; i++)
{
    await queue.EnqueueAsync(new Square(i), new EnqueueOptions { IdempotencyKey = $"square-{i}" });
}

var duplicate = await queue.EnqueueAsync(new Square(0), new EnqueueOptions { IdempotencyKey = "square-0" });
await done.All.WaitAsync(TimeSpan.FromMinutes(1));
await host.StopAsync();
Console.WriteLine($"AOT smoke: {Jobs} jobs handled, sum of squares {done.Sum}, duplicate refused: {duplicate.Status == EnqueueStatus.Duplicate}.");
return done.Sum == Enumerable.Range(0, Jobs).Sum(i => (long)i * i) && duplicate.Status == EnqueueStatus.Duplicate ? 0 : 1;

internal sealed record Square(int Value);

internal sealed class Done(int jobs)
{
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining = jobs;
    private long _sum;

    public Task All => _all.Task;

    public long Sum => Interlocked.Read(ref _sum);

    public void Add(long value)
    {
        Interlocked.Add(ref _sum, value);
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _all.SetResult();
        }
    }
}

internal sealed class SquareHandler(Done done) : IJobHandler<Square>
{
    public Task HandleAsync(Square job, JobContext context, CancellationToken cancellationToken)
    {
        done.Add((long)job.Value * job.Value);
        return Task.CompletedTask;
    }
}
