using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Sqlite.Tests;

/// <summary>The job the store tests enqueue.</summary>
/// <param name="Number">Tells the jobs apart.</param>
[JobKind("sqlite-test-job")]
public sealed record SqliteTestJob(int Number);

/// <summary>Registers the kind; tests that run a host supply their own behaviour through <see cref="Behaviour"/>.</summary>
public sealed class SqliteTestJobHandler(SqliteTestJobHandler.Behaviour? behaviour = null) : IJobHandler<SqliteTestJob>
{
    public Task HandleAsync(SqliteTestJob job, JobContext context, CancellationToken cancellationToken) => behaviour?.Run(job, context) ?? Task.CompletedTask;

    /// <summary>What the handler does, as a singleton the test holds.</summary>
    public sealed class Behaviour(Func<SqliteTestJob, JobContext, Task>? run = null)
    {
        public Task Run(SqliteTestJob job, JobContext context) => run?.Invoke(job, context) ?? Task.CompletedTask;
    }
}

/// <summary>
/// One process's SQLite store, driven directly (no workers), as the conformance suite drives stores. Two of them on
/// one file, each with its own clock, play two processes: one stalled, one alive.
/// </summary>
public sealed class BareStore : IAsyncDisposable
{
    public const string Queue = "sqlite-tests";

    private readonly ServiceProvider _services;

    private BareStore(ServiceProvider services)
    {
        _services = services;
    }

    public IServiceProvider Services => _services;

    public IJobStore Store => _services.GetRequiredService<IJobStore>();

    public IJobQueue Jobs => _services.GetRequiredService<IJobQueue>();

    /// <summary>Gets the store's own dead letters (any dead-letter queue name, as the dispatcher's targets give them); a call on them also waits for every earlier write.</summary>
    public IDeadLetterQueue DeadLetters => Store.DeadLetters;

    public static BareStore Open(TempDatabase database, TimeProvider time, Action<QueueOptions>? queue = null, Action<SqliteStoreOptions>? options = null, Action<IServiceCollection>? configureServices = null)
    {
        var services = new ServiceCollection();
        configureServices?.Invoke(services);
        services.AddSingleton(time);
        services.AddSingleton(new SqliteTestJobHandler.Behaviour());
        services.AddJobQueue()
            .AddHandler<SqliteTestJob, SqliteTestJobHandler>(Queue, q => queue?.Invoke(q))
            .UseSqlite(database.ConnectionString, options);
        var store = new BareStore(services.BuildServiceProvider());
        _ = store.Store;
        return store;
    }

    public ValueTask<JobRecord> FetchAsync() => Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None);

    /// <summary>A job record as the core makes it at enqueue, for tests that drive the store directly.</summary>
    public static JobRecord Job(int number, DateTimeOffset now, JobPriority priority = JobPriority.Normal, DateTimeOffset? notBefore = null, string? key = null, int? maxAttempts = null) =>
        new(JobId.NewId(), "sqlite-test-job", Queue, new SqliteTestJob(number), now)
        {
            Priority = priority,
            NotBefore = notBefore,
            IdempotencyKey = key,
            MaxAttempts = maxAttempts,
        };

    /// <summary>Enqueues through the store itself, as the conformance suite does; returns the job's id.</summary>
    public async Task<JobId> EnqueueAsync(JobRecord job) => (await Store.EnqueueAsync(job, CancellationToken.None)).JobId;

    /// <summary>A request through the store's writer: when it returns, every request queued before it (a timer's sweep or heartbeat) has run.</summary>
    public async Task BarrierAsync() => await DeadLetters.CountAsync("barrier");

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
