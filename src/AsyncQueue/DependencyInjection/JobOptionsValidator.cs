using Microsoft.Extensions.Options;

namespace AsyncQueue.DependencyInjection;

/// <summary>Checks a job type's options when they are first read, naming the job kind and the property at fault.</summary>
internal sealed class JobOptionsValidator : IValidateOptions<JobOptions>
{
    public ValidateOptionsResult Validate(string? name, JobOptions options) =>
        options.Timeout is { } timeout && timeout <= TimeSpan.Zero
            ? ValidateOptionsResult.Fail($"Job kind '{name}': JobOptions.Timeout must be more than zero (or null for the queue's), but was {timeout}.")
            : ValidateOptionsResult.Success;
}
