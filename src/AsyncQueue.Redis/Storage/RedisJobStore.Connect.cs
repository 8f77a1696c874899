using System.Globalization;
using AsyncQueue.Redis.DependencyInjection;
using AsyncQueue.Redis.Diagnostics;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>Start-up: connect, check the server's version, load the scripts, and say what a crash of Redis would lose.</summary>
internal sealed partial class RedisJobStore
{
    /// <summary>The oldest server the scripts run on: they use <c>ZRANGE ... BYSCORE LIMIT</c> and <c>ZPOPMIN</c> with a count, from Redis 6.2.</summary>
    internal static readonly Version MinimumVersion = new(6, 2);

    private static (ConnectionMultiplexer Connection, string Endpoint) Connect(RedisStoreOptions options, ILogger logger)
    {
        var config = ConfigurationOptions.Parse(options.Configuration);
        var endpoint = string.Join(", ", config.EndPoints.Select(e => e.ToString()));
        var setting = $"RedisStoreOptions.Configuration ('{RedisStoreOptionsValidator.Redact(options.Configuration)}')";

        // Fail the start rather than queue work for a server that is not there; once connected, the client reconnects on its own.
        config.AbortOnConnectFail = true;
        config.ConnectTimeout = (int)options.ConnectTimeout.TotalMilliseconds;
        config.ConnectRetry = 1;

        // INFO, CONFIG GET and SCRIPT LOAD are admin commands to the client; the store sends no other.
        config.AllowAdmin = true;
        ConnectionMultiplexer connection;
        try
        {
            connection = ConnectionMultiplexer.Connect(config);
        }
        catch (RedisConnectionException ex) when (ex.FailureType == ConnectionFailureType.AuthenticationFailure || IsAuthFailure(ex))
        {
            throw new InvalidOperationException(
                $"The Redis job store could not sign in to {endpoint}: the server refused the password (or user) of {setting}. Check the password= (and user=) of the configuration. {ex.Message}", ex);
        }
        catch (RedisConnectionException ex)
        {
            throw new InvalidOperationException(
                $"The Redis job store could not connect to {endpoint} within {options.ConnectTimeout} (RedisStoreOptions.ConnectTimeout): check that Redis runs there and that {setting} names it. {ex.Message}", ex);
        }

        try
        {
            var server = connection.GetServers().FirstOrDefault(s => s.IsConnected) ?? connection.GetServer(config.EndPoints[0]);
            CheckVersion(server, endpoint, setting);
            foreach (var script in RedisScripts.All)
            {
                server.ScriptLoad(script.Text);
            }

            RedisLog.Connected(logger, endpoint, server.Version.ToString(), options.KeyPrefix, CheckPersistence(server, endpoint, logger));
            return (connection, endpoint);
        }
        catch (RedisServerException ex) when (ex.Message.Contains("NOAUTH", StringComparison.Ordinal) || ex.Message.Contains("WRONGPASS", StringComparison.Ordinal))
        {
            connection.Dispose();
            throw new InvalidOperationException(
                $"The Redis job store could not sign in to {endpoint}: the server asks for a password that {setting} does not give, or refused it. {ex.Message}", ex);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private static bool IsAuthFailure(RedisConnectionException ex) =>
        ex.ToString() is var text && (text.Contains("NOAUTH", StringComparison.Ordinal) || text.Contains("WRONGPASS", StringComparison.Ordinal) || text.Contains("AuthenticationFailure", StringComparison.Ordinal));

    private static void CheckVersion(IServer server, string endpoint, string setting)
    {
        // INFO server's redis_version, not the client's guess from the handshake.
        var reported = server.Info("server").SelectMany(g => g).FirstOrDefault(p => p.Key == "redis_version").Value;
        if (VersionProblem(reported ?? server.Version.ToString(), endpoint, setting) is { } problem)
        {
            throw new InvalidOperationException(problem);
        }
    }

    /// <summary>Why a server of the reported version cannot run the scripts, or <see langword="null"/> when it can.</summary>
    internal static string? VersionProblem(string reported, string endpoint, string setting) =>
        Version.TryParse(reported, out var version) && version < MinimumVersion
            ? $"The Redis server at {endpoint} ({setting}) is Redis {reported}, but the Redis job store's scripts need Redis {MinimumVersion} or later (ZRANGE BYSCORE LIMIT, ZPOPMIN with a count). Upgrade the server."
            : null;

    /// <summary>Reads <c>appendonly</c> and <c>appendfsync</c>, logs a warning when a crash of Redis can lose accepted jobs, and describes them.</summary>
    private static string CheckPersistence(IServer server, string endpoint, ILogger logger)
    {
        string appendOnly;
        string fsync;
        try
        {
            appendOnly = server.ConfigGet("appendonly").FirstOrDefault().Value ?? "";
            fsync = server.ConfigGet("appendfsync").FirstOrDefault().Value ?? "";
        }
        catch (RedisServerException ex)
        {
            // CONFIG is often renamed or disabled on managed servers.
            RedisLog.PersistenceUnknown(logger, endpoint, ex.Message);
            return "unknown (CONFIG is disabled)";
        }

        var described = string.Create(CultureInfo.InvariantCulture, $"appendonly {appendOnly}, appendfsync {fsync}");
        if (!appendOnly.Equals("yes", StringComparison.OrdinalIgnoreCase))
        {
            RedisLog.JobsMayBeLost(logger, endpoint, $"{described}: without the append-only file, everything accepted since the last snapshot (if any) is lost.");
        }
        else if (!fsync.Equals("always", StringComparison.OrdinalIgnoreCase))
        {
            RedisLog.JobsMayBeLost(logger, endpoint, fsync.Equals("everysec", StringComparison.OrdinalIgnoreCase)
                ? $"{described}: Redis acknowledges before it writes to disk, and writes once a second, so the last second of accepted jobs can be lost."
                : $"{described}: Redis leaves the flush to the operating system, so the last 30 seconds or so of accepted jobs can be lost.");
        }

        return described;
    }
}
