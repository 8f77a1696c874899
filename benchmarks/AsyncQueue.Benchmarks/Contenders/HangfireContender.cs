using Hangfire;
using Hangfire.InMemory;
using Hangfire.PostgreSql;
using Hangfire.Redis.StackExchange;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Hangfire: <c>AddHangfire</c> + <c>AddHangfireServer</c> with N workers, jobs enqueued with
/// <see cref="IBackgroundJobClient"/> as its documentation shows (an expression, serialized), on Hangfire.InMemory
/// storage (<see cref="InMemory"/>), Hangfire.PostgreSql (<see cref="OnPostgreSql"/>) or Hangfire.Redis.StackExchange
/// (<see cref="OnRedis"/>).
/// </summary>
internal sealed class HangfireContender : IContender
{
    /// <summary>The PostgreSQL contender's label in every report.</summary>
    public const string PostgreSqlLabel = "Hangfire 1.8.25 + Hangfire.PostgreSql 1.21.1";

    /// <summary>The Redis contender's label in every report.</summary>
    public const string RedisLabel = "Hangfire 1.8.25 + Hangfire.Redis.StackExchange 1.12.0";

    private readonly IHost _host;
    private readonly IBackgroundJobClient _client;
    private bool _started;

    private HangfireContender(int workers, Func<IGlobalConfiguration, IGlobalConfiguration> useStorage)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        builder.Services.AddHangfire(configuration => useStorage(configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()));
        builder.Services.AddHangfireServer(options => options.WorkerCount = workers);
        _host = builder.Build();
        _client = _host.Services.GetRequiredService<IBackgroundJobClient>();
    }

    public Completion Completion { get; } = new();

    /// <summary>Hangfire 1.8.25 with Hangfire.InMemory 1.0.0 storage.</summary>
    public static HangfireContender InMemory(int workers) =>
        new(workers, configuration => configuration.UseInMemoryStorage(new InMemoryStorageOptions()));

    /// <summary>
    /// Hangfire 1.8.25 with Hangfire.PostgreSql 1.21.1 storage on the same server as the AsyncQueue PostgreSQL store, in
    /// a schema of its own (one transaction per enqueued job).
    /// </summary>
    /// <remarks>
    /// Long polling (LISTEN/NOTIFY, <c>EnableLongPolling</c>) is on, so an idle worker wakes when a job is enqueued
    /// instead of at its next <c>QueuePollInterval</c> (15 s by default): the store's documented option for prompt
    /// pick-up, and the same wake-up the AsyncQueue store uses. Everything else is the storage's default.
    /// </remarks>
    public static HangfireContender OnPostgreSql(string connectionString, int workers)
    {
        var storage = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire_" + Guid.NewGuid().ToString("N")[..12],
            EnableLongPolling = true,
            PrepareSchemaIfNecessary = true,
        };
        return new(workers, configuration => configuration.UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), storage));
    }

    /// <summary>
    /// Hangfire 1.8.25 with Hangfire.Redis.StackExchange 1.12.0 storage on the same Redis server as the AsyncQueue Redis
    /// store (<paramref name="configuration"/>, a StackExchange.Redis configuration string), under a key prefix of its own.
    /// </summary>
    /// <remarks>
    /// Everything is the storage's default: it already wakes an idle worker through pub/sub when a job is enqueued.
    /// Jobs go in one <see cref="IBackgroundJobClient.Enqueue"/> at a time: free Hangfire has no batch enqueue (batches
    /// are a Hangfire Pro feature).
    /// </remarks>
    public static HangfireContender OnRedis(string configuration, int workers)
    {
        var storage = new RedisStorageOptions { Prefix = "{hangfire-" + Guid.NewGuid().ToString("N")[..12] + "}:" };
        return new(workers, global => global.UseRedisStorage(configuration, storage));
    }

    public async Task StartAsync()
    {
        await _host.StartAsync();
        _started = true;
    }

    public ValueTask EnqueueAsync(Job job)
    {
        var index = job.Index;
        var enqueuedAt = job.EnqueuedAt;
        _client.Enqueue<HangfireNoOpJob>(handler => handler.Run(index, enqueuedAt));
        return default;
    }

    public ValueTask DisposeAsync() => PeerHost.StopAsync(_host, _started);
}

/// <summary>Hangfire's no-op job, activated from DI per job.</summary>
public sealed class HangfireNoOpJob(Completion completion)
{
    /// <summary>Counts the job done.</summary>
    public void Run(int index, long enqueuedAt) => completion.Signal(index, enqueuedAt);
}
