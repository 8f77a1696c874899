namespace EmailNotifications;

/// <summary>How the sample runs.</summary>
/// <param name="PickupFolder">Where the <c>.eml</c> files are written; created if missing.</param>
/// <param name="Seed">Seeds the flaky transport and the retry jitter, so a run can be repeated exactly.</param>
/// <param name="FailureRate">The chance that a send fails transiently first, from 0 (a reliable transport) to 1.</param>
/// <param name="Verbose">Shows the queue's own log lines (failures with stack traces, scheduled retries, dead letters).</param>
/// <param name="RabbitMqUri">
/// The AMQP URI of a RabbitMQ broker to run the queue on (the <c>AsyncQueue.RabbitMQ</c> store), or
/// <see langword="null"/> for the in-memory store. On RabbitMQ the <c>emails</c> queue is a quorum queue and the
/// permanent failures reach <c>failed-emails</c> through the broker's dead-letter exchange.
/// </param>
public sealed record DemoOptions(
    string PickupFolder,
    int Seed = DemoOptions.DefaultSeed,
    double FailureRate = DemoOptions.DefaultFailureRate,
    bool Verbose = false,
    string? RabbitMqUri = null)
{
    /// <summary>The environment variable that puts the sample on RabbitMQ when <c>--rabbitmq</c> is not given: an AMQP URI.</summary>
    public const string RabbitMqVariable = "ASYNCQUEUE_RABBITMQ";

    /// <summary>The seed used when none is given.</summary>
    public const int DefaultSeed = 42;

    /// <summary>The failure rate used when none is given.</summary>
    public const double DefaultFailureRate = 0.4;
}
