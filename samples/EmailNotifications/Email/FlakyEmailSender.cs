using System.Collections.Concurrent;
using System.Net.Mail;
using System.Text;

namespace EmailNotifications.Email;

/// <summary>
/// Wraps a sender and makes some sends fail first with a transient <see cref="SmtpException"/> (421, "try again
/// later"), as real transports do under load, so the queue's retries show. Seeded: the same seed fails the same
/// emails the same number of times, whatever order the workers send them in.
/// </summary>
public sealed class FlakyEmailSender : IEmailSender
{
    private readonly IEmailSender _inner;
    private readonly int _seed;
    private readonly double _failureRate;
    private readonly int _maxFailuresPerEmail;
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);

    /// <summary>Initializes the wrapper.</summary>
    /// <param name="inner">The sender that sends when no failure is injected.</param>
    /// <param name="seed">Chooses which sends fail.</param>
    /// <param name="failureRate">The chance that a send fails, from 0 (never) to 1.</param>
    /// <param name="maxFailuresPerEmail">
    /// The most failures injected into one email before it goes through. Keep it under the retry policy's retries, so
    /// the flakiness shows retries without ever exhausting them.
    /// </param>
    public FlakyEmailSender(IEmailSender inner, int seed, double failureRate, int maxFailuresPerEmail)
    {
        ArgumentNullException.ThrowIfNull(inner);
        if (double.IsNaN(failureRate) || failureRate is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(failureRate), failureRate, "The failure rate must be between 0 and 1.");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(maxFailuresPerEmail);
        _inner = inner;
        _seed = seed;
        _failureRate = failureRate;
        _maxFailuresPerEmail = maxFailuresPerEmail;
    }

    /// <inheritdoc />
    public Task<string> SendAsync(EmailMessage message, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);

        // Keyed by the notification, not by call order: which worker sends first must not change which sends fail.
        var call = _calls.AddOrUpdate(message.IdempotencyKey, 0, static (_, previous) => previous + 1);
        if (call < FailuresBefore(message.IdempotencyKey))
        {
            throw new SmtpException(
                SmtpStatusCode.ServiceNotAvailable,
                $"421 4.3.2 Service not available, try again later (injected by the flaky transport, seed {_seed}).");
        }

        return _inner.SendAsync(message, cancellationToken);
    }

    /// <summary>How many times the email with this key fails before it goes through: a seeded draw per email.</summary>
    private int FailuresBefore(string key)
    {
        var random = new Random(_seed ^ StableHash(key));
        var failures = 0;
        while (failures < _maxFailuresPerEmail && random.NextDouble() < _failureRate)
        {
            failures++;
        }

        return failures;
    }

    /// <summary>FNV-1a over the key's UTF-8 bytes: unlike <see cref="string.GetHashCode()"/>, the same in every process.</summary>
    private static int StableHash(string key)
    {
        var hash = 2166136261u;
        foreach (var b in Encoding.UTF8.GetBytes(key))
        {
            hash = (hash ^ b) * 16777619u;
        }

        return unchecked((int)hash);
    }
}
