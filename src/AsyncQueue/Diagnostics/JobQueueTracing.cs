using System.Diagnostics;
using AsyncQueue.Storage;

namespace AsyncQueue.Diagnostics;

/// <summary>
/// The queue's one <see cref="ActivitySource"/>, named <c>AsyncQueue</c>: a producer span per enqueue and a consumer
/// span per attempt, linked by the W3C trace context the job carries (<see cref="JobRecord.TraceParent"/>), so the
/// trace of the request that enqueued a job continues into its handler, also through a durable store. Tags follow the
/// OpenTelemetry messaging semantic conventions v1.37.0.
/// </summary>
internal static class JobQueueTracing
{
    public const string SourceName = "AsyncQueue";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Starts the producer span, when anyone listens, and returns the trace context to store with the job.</summary>
    public static Activity? StartSend(string queue, string kind, out string? traceParent, out string? traceState)
    {
        var activity = Source.HasListeners()
            ? Source.StartActivity($"send {queue}", ActivityKind.Producer)
            : null;
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "asyncqueue");
            activity.SetTag("messaging.operation.type", "send");
            activity.SetTag("messaging.operation.name", JobQueueMetrics.SendOperation);
            activity.SetTag("messaging.destination.name", queue);
            activity.SetTag("asyncqueue.job.kind", kind);
        }

        // Carry the context even when this source is not listened to, so a consumer that is still joins the trace.
        var current = activity ?? Activity.Current;
        traceParent = current?.IdFormat == ActivityIdFormat.W3C ? current.Id : null;
        traceState = current?.TraceStateString;
        return activity;
    }

    /// <summary>Starts the consumer span of one attempt, as a child of the context the job carries.</summary>
    public static Activity? StartProcess(JobRecord job)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(job.TraceParent, job.TraceState, isRemote: true, out var parent);
        var activity = Source.StartActivity($"process {job.Queue}", ActivityKind.Consumer, parent);
        if (activity is not null)
        {
            activity.SetTag("messaging.system", "asyncqueue");
            activity.SetTag("messaging.operation.type", "process");
            activity.SetTag("messaging.operation.name", JobQueueMetrics.ProcessOperation);
            activity.SetTag("messaging.destination.name", job.Queue);
            activity.SetTag("messaging.message.id", job.Id.ToString());
            activity.SetTag("asyncqueue.job.kind", job.Kind);
            activity.SetTag("asyncqueue.job.attempt", job.Attempt);
        }

        return activity;
    }

    /// <summary>Tags a batch enqueue's producer span with its job count (the conventions keep it off single sends).</summary>
    public static void SetBatchSize(Activity? activity, int count) => activity?.SetTag("messaging.batch.message_count", count);

    /// <summary>Marks a span as failed, with its <c>error.type</c> and the exception recorded as an event.</summary>
    public static void RecordFailure(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        activity.SetTag("error.type", JobQueueMetrics.ErrorType(exception));
        activity.AddException(exception);
    }
}
