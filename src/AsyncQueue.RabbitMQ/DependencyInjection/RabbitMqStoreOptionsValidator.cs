using Microsoft.Extensions.Options;

namespace AsyncQueue.RabbitMQ.DependencyInjection;

/// <summary>Checks the RabbitMQ store's options when they are first read, naming the property at fault.</summary>
internal sealed class RabbitMqStoreOptionsValidator : IValidateOptions<RabbitMqStoreOptions>
{
    public ValidateOptionsResult Validate(string? name, RabbitMqStoreOptions options)
    {
        var failures = new List<string>();
        if (string.IsNullOrWhiteSpace(options.Uri))
        {
            failures.Add("RabbitMqStoreOptions.Uri must name a broker, for example \"amqp://guest:guest@localhost:5672\", but was empty.");
        }
        else if (!System.Uri.TryCreate(options.Uri, UriKind.Absolute, out var uri) || uri.Scheme is not ("amqp" or "amqps"))
        {
            failures.Add($"RabbitMqStoreOptions.Uri ('{Redact(options.Uri)}') must be an absolute amqp:// or amqps:// URI, for example \"amqp://guest:guest@localhost:5672\".");
        }

        if (options.ConnectTimeout < TimeSpan.FromMilliseconds(100) || options.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"RabbitMqStoreOptions.ConnectTimeout must be between 100 milliseconds and 5 minutes, but was {options.ConnectTimeout}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>The URI without its password, for messages.</summary>
    internal static string Redact(string uri)
    {
        if (!System.Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !parsed.UserInfo.Contains(':', StringComparison.Ordinal))
        {
            return uri;
        }

        var user = parsed.UserInfo[..parsed.UserInfo.IndexOf(':', StringComparison.Ordinal)];
        return new UriBuilder(parsed) { Password = "***", UserName = Uri.UnescapeDataString(user) }.Uri.ToString();
    }
}
