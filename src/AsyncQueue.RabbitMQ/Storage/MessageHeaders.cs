using System.Globalization;
using System.Text;
using AsyncQueue.Storage;
using AsyncQueue.Storage.Durable;
using RabbitMQ.Client;

namespace AsyncQueue.RabbitMQ.Storage;

/// <summary>
/// The AMQP headers a job travels with. The body is the job's JSON only; everything the dispatcher reads back (its
/// attempt, its errors of every attempt, when it was enqueued) rides in headers, so a retry or a dead letter
/// republishes the same body with new headers. The broker adds <c>x-delivery-count</c> on a quorum queue's redelivery.
/// </summary>
/// <remarks>
/// Only what differs from a fresh job is written: a new job carries its enqueue time alone (a missing attempt reads as
/// 0, no errors as none), and the work queue's name rides only on a dead letter, the one place it is read back. The
/// broker decodes every header of every publish and keeps it in the quorum queue's log, so a header that says nothing
/// new is work for nothing on the hot path.
/// </remarks>
internal static class MessageHeaders
{
    public const string Attempt = "aq-attempt";
    public const string Errors = "aq-errors";
    public const string EnqueuedAt = "aq-enqueued-at";
    public const string MaxAttempts = "aq-max-attempts";
    public const string Queue = "aq-queue";
    public const string DeadLetteredAt = "aq-dead-lettered-at";
    public const string TraceParent = "traceparent";
    public const string TraceState = "tracestate";
    public const string DeliveryCount = "x-delivery-count";

    /// <summary>The properties of a job's message: persistent, its id and kind, and its headers as the record has them now (its queue's name too when <paramref name="deadLetteredAt"/> is set).</summary>
    public static BasicProperties For(JobRecord job, DateTimeOffset? deadLetteredAt = null)
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            [EnqueuedAt] = job.EnqueuedAt.UtcTicks,
        };
        if (job.Attempt != 0)
        {
            headers[Attempt] = job.Attempt;
        }

        if (JobPayloads.SerializeErrors(job.Errors) is { } errors)
        {
            headers[Errors] = errors;
        }

        if (job.MaxAttempts is { } max)
        {
            headers[MaxAttempts] = max;
        }

        if (job.TraceParent is { } parent)
        {
            headers[TraceParent] = parent;
            if (job.TraceState is { } state)
            {
                headers[TraceState] = state;
            }
        }

        if (deadLetteredAt is { } at)
        {
            headers[DeadLetteredAt] = at.UtcTicks;
            headers[Queue] = job.Queue;
        }

        return new BasicProperties
        {
            Persistent = true,
            MessageId = job.Id.ToString(),
            Type = job.Kind,
            ContentType = "application/json",
            Headers = headers,
        };
    }

    public static string? GetString(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true
            ? value switch
            {
                byte[] bytes => Encoding.UTF8.GetString(bytes),
                string text => text,
                null => null,
                _ => Convert.ToString(value, CultureInfo.InvariantCulture),
            }
            : null;

    public static long? GetInt64(IReadOnlyBasicProperties properties, string name) =>
        properties.Headers?.TryGetValue(name, out var value) == true
            ? value switch
            {
                int i => i,
                long l => l,
                short s => s,
                byte b => b,
                uint u => u,
                ulong ul => (long)ul,
                byte[] bytes when long.TryParse(Encoding.UTF8.GetString(bytes), NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => null,
            }
            : null;
}
