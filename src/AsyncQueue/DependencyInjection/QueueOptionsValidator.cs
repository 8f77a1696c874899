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

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
