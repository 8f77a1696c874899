using AsyncQueue.PostgreSql.Storage;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.PostgreSql.Tests;

/// <summary>
/// One process's PostgreSQL store on a schema, driven directly (no workers), as the conformance suite drives stores,
/// on its own fake clock. Its sweeper's timer is an hour, so a test sweeps by hand (<see cref="SweepAsync"/>). Two of
/// them on one schema play two processes.
/// </summary>
public sealed class StoreProcess : IAsyncDisposable
{
    public const string Queue = "work";

    public static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services;

    private StoreProcess(ServiceProvider services, FakeTimeProvider time)
    {
        _services = services;
        Time = time;
    }

    public FakeTimeProvider Time { get; }

    public IServiceProvider Services => _services;

    public IJobStore Store => _services.GetRequiredService<IJobStore>();

    public static StoreProcess Open(string connectionString, string schema, Action<QueueOptions>? queue = null, Action<PostgreSqlStoreOptions>? options = null, Action<IServiceCollection>? configureServices = null)
    {
        var time = new FakeTimeProvider(Start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(new RunRecorder(1));
        configureServices?.Invoke(services);
        services.AddJobQueue()
            .AddHandler<WorkJob, WorkHandler>(Queue, q => queue?.Invoke(q))
            .UsePostgreSql(connectionString, o =>
            {
                o.Schema = schema;
                o.LeaseDuration = TimeSpan.FromSeconds(30);
                o.SweepInterval = TimeSpan.FromHours(1);

                // The tests observe a settled row as soon as CompleteAsync returns: it waits for the commit here.
                o.AsynchronousCompletions = false;
                options?.Invoke(o);
            });
        var process = new StoreProcess(services.BuildServiceProvider(), time);
        _ = process.Store;
        return process;
    }

    /// <summary>A job record as the core makes it at enqueue.</summary>
    public JobRecord Job(int number, JobPriority priority = JobPriority.Normal, DateTimeOffset? notBefore = null, string? key = null, int? maxAttempts = null) =>
        new(JobId.NewId(), nameof(WorkJob), Queue, new WorkJob(number), Time.GetUtcNow())
        {
            Priority = priority,
            NotBefore = notBefore,
            IdempotencyKey = key,
            MaxAttempts = maxAttempts,
        };

    public async Task<JobId> EnqueueAsync(JobRecord job) => (await Store.EnqueueAsync(job, CancellationToken.None)).JobId;

    public ValueTask<JobRecord> FetchAsync() => Store.OpenConsumer(Queue).FetchAsync(CancellationToken.None);

    public async Task<JobInfo> GetAsync(JobId id) =>
        await Store.GetJobAsync(id, CancellationToken.None) ?? throw new InvalidOperationException($"Job {id} has no status.");

    /// <summary>Sweeps once, waiting for another process's sweeping turn to end if need be.</summary>
    public Task SweepAsync() => Poll.UntilAsync(() => ((PostgreSqlJobStore)Store).SweepAsync(CancellationToken.None), "the store took its sweeping turn");

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
