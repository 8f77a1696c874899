using Microsoft.Extensions.Options;

namespace AsyncQueue.DependencyInjection;

/// <summary>Checks every queue's options when they are first read, naming the queue and the property at fault.</summary>
internal sealed class QueueOptionsValidator : IValidateOptions<QueueOptions>
{
    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var failures = new List<string>();
        if (options.MaxConcurrency is < 1 or > QueueOptions.MaxConcurrencyLimit)
        {
            failures.Add($"Queue '{name}': QueueOptions.MaxConcurrency must be between 1 and {QueueOptions.MaxConcurrencyLimit}, but was {options.MaxConcurrency}.");
        }

        if (options.Capacity is < 1)
        {
            failures.Add($"Queue '{name}': QueueOptions.Capacity must be at least 1 (or null for unbounded), but was {options.Capacity}.");
        }

        if (!Enum.IsDefined(options.FullMode))
        {
            failures.Add($"Queue '{name}': QueueOptions.FullMode has the undefined value {(int)options.FullMode}.");
        }

        if (options.Retry is null)
        {
            failures.Add($"Queue '{name}': QueueOptions.Retry must not be null; use RetryPolicy.None for no retries.");
        }

        if (options.Timeout is { } timeout && timeout <= TimeSpan.Zero)
        {
            failures.Add($"Queue '{name}': QueueOptions.Timeout must be more than zero (or null for none), but was {timeout}.");
        }

        if (options.AbandonAfter < TimeSpan.Zero)
        {
            failures.Add($"Queue '{name}': QueueOptions.AbandonAfter must not be negative, but was {options.AbandonAfter}.");
        }

        if (options.DeadLetterQueue is { } deadLetterQueue && string.IsNullOrWhiteSpace(deadLetterQueue))
        {
            failures.Add($"Queue '{name}': QueueOptions.DeadLetterQueue must not be empty (or null for '{name}-dead-letter').");
        }

        if (options.DeadLetterRetention <= TimeSpan.Zero)
        {
            failures.Add($"Queue '{name}': QueueOptions.DeadLetterRetention must be more than zero, but was {options.DeadLetterRetention}.");
        }

        if (options.DeadLetterCapacity < 1)
        {
            failures.Add($"Queue '{name}': QueueOptions.DeadLetterCapacity must be at least 1, but was {options.DeadLetterCapacity}.");
        }

        if (options.FinishedJobRetention < TimeSpan.Zero)
        {
            failures.Add($"Queue '{name}': QueueOptions.FinishedJobRetention must not be negative, but was {options.FinishedJobRetention}.");
        }

        if (options.FinishedJobCapacity is < 0)
        {
            failures.Add($"Queue '{name}': QueueOptions.FinishedJobCapacity must not be negative, but was {options.FinishedJobCapacity}.");
        }

        if (options.RateLimit is { } limit)
        {
            if (limit.Permits < 1)
            {
                failures.Add($"Queue '{name}': QueueOptions.RateLimit.Permits must be at least 1, but was {limit.Permits}.");
            }

            if (limit.Period < TimeSpan.FromMilliseconds(1))
            {
                failures.Add($"Queue '{name}': QueueOptions.RateLimit.Period must be at least one millisecond, but was {limit.Period}.");
            }
        }

        if (options.IdempotencyRetention < TimeSpan.Zero)
        {
            failures.Add($"Queue '{name}': QueueOptions.IdempotencyRetention must not be negative, but was {options.IdempotencyRetention}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
