namespace AsyncQueue.RabbitMQ;

/// <summary>
/// Publishes an event once to a fan-out exchange, from which it reaches every queue subscribed to it
/// (<see cref="RabbitMqStoreOptions.Subscribe"/>). Resolve it from DI after <c>UseRabbitMq</c>.
/// </summary>
public interface IRabbitMqEventPublisher
{
    /// <summary>
    /// Publishes <paramref name="message"/> as JSON, persistent, and returns once the broker confirmed it. Each subscribed
    /// queue gets its own copy, which runs as that queue's job (attempt 1), is retried and dead-lettered there alone.
    /// </summary>
    /// <typeparam name="TEvent">The event's type.</typeparam>
    /// <param name="exchange">The exchange, as named in <see cref="RabbitMqStoreOptions.Subscribe"/>.</param>
    /// <param name="message">The event.</param>
    /// <param name="cancellationToken">Cancels the wait for the confirm (the broker may still have taken the event).</param>
    /// <returns>The id every copy of the event carries as its job id.</returns>
    /// <exception cref="InvalidOperationException">The exchange is not one this store subscribed a queue to.</exception>
    /// <exception cref="global::RabbitMQ.Client.Exceptions.PublishException">The broker refused the event, or no queue is bound to the exchange.</exception>
    ValueTask<JobId> PublishAsync<TEvent>(string exchange, TEvent message, CancellationToken cancellationToken = default);
}
