using Hangfire;
using Hangfire.PostgreSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace AsyncQueue.Benchmarks.Contenders;

/// <summary>
/// Hangfire with Hangfire.PostgreSql storage on the same server as the AsyncQueue PostgreSQL store, in a schema of its
/// own: <c>AddHangfire(...UsePostgreSqlStorage)</c> + <c>AddHangfireServer</c> with N workers, jobs enqueued with
/// <see cref="IBackgroundJobClient"/> (an expression, serialized; one transaction per job).
/// </summary>
/// <remarks>
/// Long polling (LISTEN/NOTIFY, <c>EnableLongPolling</c>) is on, so an idle worker wakes when a job is enqueued instead
/// of at its next <c>QueuePollInterval</c> (15 s by default): the store's documented option for prompt pick-up, and
/// the same wake-up the AsyncQueue store uses. Everything else is the storage's default.
/// </remarks>
internal sealed class HangfirePostgreSqlContender : IContender
{
    private readonly IHost _host;
    private readonly IBackgroundJobClient _client;
    private bool _started;

    public HangfirePostgreSqlContender(string connectionString, int workers)
    {
        var builder = PeerHost.CreateBuilder(Completion);
        var storage = new PostgreSqlStorageOptions
        {
            SchemaName = "hangfire_" + Guid.NewGuid().ToString("N")[..12],
            EnableLongPolling = true,
            PrepareSchemaIfNecessary = true,
        };
        builder.Services.AddHangfire(configuration => configuration
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings()
            .UsePostgreSqlStorage(options => options.UseNpgsqlConnection(connectionString), storage));
        builder.Services.AddHangfireServer(options => options.WorkerCount = workers);
        _host = builder.Build();
        _client = _host.Services.GetRequiredService<IBackgroundJobClient>();
    }

    /// <summary>The label used in every report.</summary>
    public const string Label = "Hangfire 1.8.25 + Hangfire.PostgreSql 1.21.1";

    public Completion Completion { get; } = new();

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
