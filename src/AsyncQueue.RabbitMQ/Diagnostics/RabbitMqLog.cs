using Microsoft.Extensions.Logging;

namespace AsyncQueue.RabbitMQ.Diagnostics;

/// <summary>
/// Every log line the RabbitMQ store writes, source-generated, with stable event ids (400 and up, apart from the
/// core's and the other stores'; ids of removed messages are not reused). Job payloads are never logged.
/// </summary>
internal static partial class RabbitMqLog
{
    [LoggerMessage(401, LogLevel.Information, "RabbitMQ job store connected to {Endpoint} (RabbitMQ {Version}); queues: {Queues}; topology {Topology}.")]
    public static partial void Connected(ILogger logger, string endpoint, string version, string queues, string topology);

    [LoggerMessage(402, LogLevel.Warning, "RabbitMQ redelivered job {JobId} ({Kind}) of queue '{Queue}': its earlier attempt's process lost its connection before settling it (delivery count {DeliveryCount}); the crashed attempt is counted.")]
    public static partial void Redelivered(ILogger logger, JobId jobId, string kind, string queue, long deliveryCount);

    [LoggerMessage(403, LogLevel.Error, "The RabbitMQ job store failed to {Operation} for queue '{Queue}'.")]
    public static partial void OperationFailed(ILogger logger, Exception exception, string operation, string queue);

    [LoggerMessage(404, LogLevel.Information, "RabbitMQ job store closed: {Released} delivered job(s) that no worker had started were handed back.")]
    public static partial void Closed(ILogger logger, int released);
}
