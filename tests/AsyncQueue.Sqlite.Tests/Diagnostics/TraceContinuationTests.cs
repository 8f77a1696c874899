using AsyncQueue.Conformance;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Sqlite.Tests.Diagnostics;

public sealed class TraceContinuationTests : IDisposable
{
    private readonly TempDatabase _database = new();

    public sealed record Traced(int Number);

    public sealed class TracedHandler(TaskCompletionSource<ActivityContext> seen) : IJobHandler<Traced>
    {
        public Task HandleAsync(Traced job, JobContext context, CancellationToken cancellationToken)
        {
            seen.TrySetResult(Activity.Current?.Context ?? default);
            return Task.CompletedTask;
        }
    }

    public void Dispose() => _database.Dispose();

    [Fact]
    public async Task EnqueueInOneHost_HandledByAnotherOnTheSameFile_ContinuesTheEnqueuersTrace()
    {
        using var requests = new ActivitySource("AsyncQueue.Sqlite.Tests.Http");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "AsyncQueue" or "AsyncQueue.Sqlite.Tests.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var seen = new TaskCompletionSource<ActivityContext>(TaskCreationOptions.RunContinuationsAsynchronously);

        // The producer: a client only, its workers never started (as in a web front end), so the job must cross the file.
        ActivityContext request;
        EnqueueResult result;
        var producerServices = new ServiceCollection();
        producerServices.AddSingleton(seen);
        producerServices.AddJobQueue().AddHandler<Traced, TracedHandler>().UseSqlite(_database.ConnectionString);
        await using (var producer = producerServices.BuildServiceProvider())
        {
            using var http = requests.StartActivity("POST /orders", ActivityKind.Server)!;
            request = http.Context;
            result = await producer.GetRequiredService<IJobQueue>().EnqueueAsync(new Traced(1));
        }

        // The consumer: a new service provider on the same file reads the job and its trace context from disk.
        await using var consumer = await JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(seen);
            queue.AddHandler<Traced, TracedHandler>().UseSqlite(_database.ConnectionString);
        });
        var handled = await seen.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.True(result.Accepted);
        Assert.Equal(request.TraceId, handled.TraceId);
        await Poll.UntilAsync(() => spans.Any(s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), result.JobId.ToString())), "the consumer span ended");
        var send = Assert.Single(spans, s => s.Kind == ActivityKind.Producer && s.TraceId == request.TraceId);
        var process = Assert.Single(spans, s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), result.JobId.ToString()));
        Assert.Equal(request.SpanId, send.ParentSpanId);
        Assert.Equal(send.SpanId, process.ParentSpanId);
    }
}
