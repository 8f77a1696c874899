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

        foreach (var endpoint in options.Endpoints)
        {
            if (!TryParseEndpoint(endpoint, out _, out _))
            {
                failures.Add($"RabbitMqStoreOptions.Endpoints holds '{endpoint}', which is not a host:port (a host name or address, and an optional port from 1 to 65535), for example \"rabbit-2:5672\".");
            }
        }

        if (options.ConnectTimeout < TimeSpan.FromMilliseconds(100) || options.ConnectTimeout > TimeSpan.FromMinutes(5))
        {
            failures.Add($"RabbitMqStoreOptions.ConnectTimeout must be between 100 milliseconds and 5 minutes, but was {options.ConnectTimeout}.");
        }

        if (options.PrefetchCount is < 1 or > ushort.MaxValue)
        {
            failures.Add($"RabbitMqStoreOptions.PrefetchCount must be between 1 and 65535, but was {options.PrefetchCount}.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Reads one entry of <see cref="RabbitMqStoreOptions.Endpoints"/>: a host, or host:port (an IPv6 address in brackets).</summary>
    /// <param name="endpoint">The entry.</param>
    /// <param name="host">The host, without brackets.</param>
    /// <param name="port">The port, or -1 for the scheme's default.</param>
    /// <returns>Whether the entry is valid.</returns>
    internal static bool TryParseEndpoint(string? endpoint, out string host, out int port)
    {
        host = "";
        port = -1;
        if (string.IsNullOrWhiteSpace(endpoint) || endpoint.Contains('/', StringComparison.Ordinal) || endpoint.Contains('@', StringComparison.Ordinal)
            || !System.Uri.TryCreate("amqp://" + endpoint.Trim(), UriKind.Absolute, out var parsed) || parsed.Host.Length == 0)
        {
            return false;
        }

        // Uri keeps the brackets of an IPv6 host; the client wants the address alone.
        host = parsed.HostNameType == UriHostNameType.IPv6 ? parsed.Host.Trim('[', ']') : parsed.Host;
        port = parsed.IsDefaultPort ? -1 : parsed.Port;
        return port is -1 or (>= 1 and <= 65535);
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
