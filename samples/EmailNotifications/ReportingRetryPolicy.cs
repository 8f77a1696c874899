using AsyncQueue.Retry;

namespace EmailNotifications;

/// <summary>
/// The queue's retry policy, reported: asks the inner policy whether and when a failed attempt runs again, and tells
/// the <see cref="DeliveryBoard"/>, which prints the delay before each retry (or that none is left).
/// </summary>
/// <remarks>
/// A decorator over <see cref="IRetryPolicy"/>, the public contract the queue calls after each failed attempt. The
/// arguments name the exception, not the job, so the board matches the exception to the notification whose handler
/// reported it.
/// </remarks>
/// <param name="inner">The policy that decides.</param>
/// <param name="board">Where each decision is reported.</param>
public sealed class ReportingRetryPolicy(IRetryPolicy inner, DeliveryBoard board) : IRetryPolicy
{
    /// <inheritdoc />
    public RetryDecision Decide(in RetryArguments arguments)
    {
        var decision = inner.Decide(arguments);
        board.RetryDecided(arguments.Exception, arguments.Attempt, decision.ShouldRetry ? decision.RunAt - arguments.Now : null);
        return decision;
    }
}
