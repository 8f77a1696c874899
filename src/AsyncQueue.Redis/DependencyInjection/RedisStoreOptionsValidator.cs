using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace AsyncQueue.Redis.DependencyInjection;

/// <summary>Checks the Redis store's options when they are first read, naming the property at fault.</summary>
internal sealed class RedisStoreOptionsValidator : IValidateOptions<RedisStoreOptions>
{
    private static readonly TimeSpan MinInterval = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan MaxInterval = TimeSpan.FromHours(1);

    public ValidateOptionsResult Validate(string? name, RedisStoreOptions options)
    {
        var failures = new List<string>();
        ValidateConfiguration(options.Configuration, failures);
        if (string.IsNullOrEmpty(options.KeyPrefix) || options.KeyPrefix.Any(c => c is '{' or '}' || char.IsWhiteSpace(c)))
        {
            failures.Add($"RedisStoreOptions.KeyPrefix must be a non-empty name without '{{', '}}' or whitespace (it goes inside each queue's hash tag), but was '{options.KeyPrefix}'.");
        }

        if (options.LeaseDuration < TimeSpan.FromSeconds(1))
        {
            failures.Add($"RedisStoreOptions.LeaseDuration must be at least 1 second, but was {options.LeaseDuration}.");
        }

        if (options.HeartbeatInterval <= TimeSpan.Zero || options.HeartbeatInterval * 2 >= options.LeaseDuration)
        {
            failures.Add($"RedisStoreOptions.HeartbeatInterval must be more than zero and less than half of LeaseDuration ({options.LeaseDuration}), but was {options.HeartbeatInterval}.");
        }

        CheckInterval(nameof(RedisStoreOptions.PollInterval), options.PollInterval, failures);
        CheckInterval(nameof(RedisStoreOptions.SweepInterval), options.SweepInterval, failures);
        if (options.FetchBatchSize is < 1 or > 10_000)
        {
            failures.Add($"RedisStoreOptions.FetchBatchSize must be between 1 and 10000, but was {options.FetchBatchSize}.");
        }

        if (options.LeaseAhead is < 0 or > 10_000)
        {
            failures.Add($"RedisStoreOptions.LeaseAhead must be between 0 and 10000, but was {options.LeaseAhead}.");
        }

        if (options.ConnectTimeout < TimeSpan.FromMilliseconds(100) || options.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"RedisStoreOptions.ConnectTimeout must be between 100 milliseconds and 5 minutes, but was {options.ConnectTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void CheckInterval(string property, TimeSpan value, List<string> failures)
    {
        if (value < MinInterval || value > MaxInterval)
        {
            failures.Add($"RedisStoreOptions.{property} must be between {MinInterval} and {MaxInterval}, but was {value}.");
        }
    }

    private static void ValidateConfiguration(string configuration, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(configuration))
        {
            failures.Add("RedisStoreOptions.Configuration must name a Redis server, for example \"localhost:6379\", but was empty.");
            return;
        }

        try
        {
            if (ConfigurationOptions.Parse(configuration).EndPoints.Count == 0)
            {
                failures.Add($"RedisStoreOptions.Configuration ('{Redact(configuration)}') names no endpoint; start it with host:port, for example \"localhost:6379\".");
            }
        }
        catch (ArgumentException ex)
        {
            failures.Add($"RedisStoreOptions.Configuration ('{Redact(configuration)}') is not a valid StackExchange.Redis configuration string: {ex.Message}");
        }
    }

    /// <summary>The configuration without its password, for messages.</summary>
    internal static string Redact(string configuration) =>
        string.Join(',', configuration.Split(',').Select(part => part.TrimStart().StartsWith("password=", StringComparison.OrdinalIgnoreCase) ? "password=***" : part));
}
