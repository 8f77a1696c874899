using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Tests.Diagnostics;

public sealed class TracingTests
{
    public sealed record Traced(string Marker);

    public sealed class TracedHandler(TaskCompletionSource<ActivityContext> seen) : IJobHandler<Traced>
    {
        public Task HandleAsync(Traced job, JobContext context, CancellationToken cancellationToken)
        {
            seen.SetResult(Activity.Current?.Context ?? default);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task EnqueueInsideActivity_HandlerSpan_ContinuesTheSameTrace()
    {
        using var requests = new ActivitySource("AsyncQueue.Tests.Http");
        var spans = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "AsyncQueue" or "AsyncQueue.Tests.Http",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = spans.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        var seen = new TaskCompletionSource<ActivityContext>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(seen);
            queue.AddHandler<Traced, TracedHandler>();
        });

        EnqueueResult result;
        ActivityContext request;
        using (var http = requests.StartActivity("POST /files", ActivityKind.Server))
        {
            Assert.NotNull(http);
            request = http.Context;
            result = await host.Queue.EnqueueAsync(new Traced("trace me"));
        }

        var handlerContext = await seen.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await Poll.UntilAsync(() => spans.Any(s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), result.JobId.ToString())), "the consumer span ended");

        var producer = Assert.Single(spans, s => s.Kind == ActivityKind.Producer && s.TraceId == request.TraceId);
        var consumer = Assert.Single(spans, s => s.Kind == ActivityKind.Consumer && Equals(s.GetTagItem("messaging.message.id"), result.JobId.ToString()));
        Assert.Equal(request.TraceId, handlerContext.TraceId);
        Assert.Equal(request.TraceId, consumer.TraceId);
        Assert.Equal(producer.SpanId, consumer.ParentSpanId);
        Assert.Equal("send Traced", producer.DisplayName);
        Assert.Equal("process Traced", consumer.DisplayName);
        Assert.Equal(ActivityStatusCode.Unset, consumer.Status);
    }
}
