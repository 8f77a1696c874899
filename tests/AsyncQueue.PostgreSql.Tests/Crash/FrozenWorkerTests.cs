using System.Collections.Concurrent;
using AsyncQueue.Conformance;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;

namespace AsyncQueue.PostgreSql.Tests.Crash;

/// <summary>
/// Issue 13: a worker frozen past its lease (a long GC pause, a stopped VM, SIGSTOP) never starts a job it lost. Two
/// processes on one database, each with its own fake clock: A's clock stands still while it runs one job and holds
/// the next in its buffer (frozen: no heartbeat); B's clock passes the leases' expiry and B rescues both; then A's
/// clock jumps (it wakes) and its worker goes on. Deterministic: nothing depends on how long anything takes.
/// </summary>
[Collection(PostgreSqlServerGroup.Name)]
public sealed class FrozenWorkerTests(PostgreSqlServer server) : IAsyncLifetime
{
    private const string Queue = "work";
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PastTheLeases = LeaseDuration + TimeSpan.FromSeconds(11);

    private readonly string _schema = PostgreSqlServer.NewSchema();
    private readonly ConcurrentQueue<Start> _starts = new();
    private readonly List<JobQueueTestHost> _hosts = [];
    private readonly ConcurrentQueue<string> _logs = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            await host.DisposeAsync();
        }
    }

    [Fact]
    public async Task FrozenWorker_ItsBufferedJobRescuedElsewhere_NeverStartsIt()
    {
        var start = new DateTimeOffset(2026, 5, 1, 8, 0, 0, TimeSpan.Zero);
        var timeA = new FakeTimeProvider(start);
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var a = await StartAsync("A", timeA, gate.Task);

        // One worker, and one job leased ahead of it: job 0 runs and succeeds (the store leases ahead only once its
        // workers settle jobs), then job 1 runs (held at the gate) and job 2 waits in A's buffer.
        await a.Queue.EnqueueBatchAsync([new WorkJob(0), new WorkJob(1), new WorkJob(2)]);
        await Poll.UntilAsync(() => _starts.Any(s => s is { Process: "A", Number: 1 }), "A started job 1");
        await Poll.UntilAsync(async () => await LeasedAsync() == 2, "A leased job 2 as well, into its buffer");

        // A is frozen (its clock stands still: no heartbeat). B's clock passes the leases' expiry: B rescues both jobs,
        // uncharged (their starts were not recorded), and runs each, isolated.
        var timeB = new FakeTimeProvider(start);
        var b = await StartAsync("B", timeB, Task.CompletedTask);
        timeB.Advance(PastTheLeases);
        await UntilAsync(() => _starts.Count(s => s.Process == "B") >= 2, "B ran both rescued jobs");
        await b.DisposeAsync();

        // A wakes: its clock jumps, its running job ends (its outcome is discarded), and its worker takes the next job
        // from its buffer. Job 3, enqueued after, shows when the worker got past job 2.
        timeA.Advance(PastTheLeases);
        gate.SetResult();
        await a.Queue.EnqueueAsync(new WorkJob(3));
        await UntilAsync(() => _starts.Any(s => s is { Process: "A", Number: 3 }), "A started job 3");

        Assert.Equal([0, 1, 3], _starts.Where(s => s.Process == "A").Select(s => s.Number));
        Assert.Equal([1, 2], _starts.Where(s => s.Process == "B").Select(s => s.Number).Order());
        Assert.All(_starts, s => Assert.Equal(1, s.Attempt));
        Assert.Equal(0, await LeasedAsync());
    }

    private async Task<JobQueueTestHost> StartAsync(string process, FakeTimeProvider time, Task gate)
    {
        var host = await JobQueueTestHost.StartAsync((services, builder) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<ILoggerProvider>(new LogLines(process, _logs));
            services.AddSingleton(new FreezeProbe(process, _starts, gate));
            builder.AddHandler<WorkJob, FreezeHandler>(Queue, q => q.MaxConcurrency = 1)
                .UsePostgreSql(server.ConnectionString, options =>
                {
                    options.Schema = _schema;
                    options.LeaseDuration = LeaseDuration;
                    options.HeartbeatInterval = TimeSpan.FromSeconds(10);
                    options.SweepInterval = TimeSpan.FromSeconds(5);
                    options.LeaseAhead = 1;
                });
        });
        _hosts.Add(host);
        return host;
    }

    /// <summary>Waits until <paramref name="condition"/> holds; a hang fails with the starts and rows so far. The limit times nothing.</summary>
    private async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = Environment.TickCount64 + 120_000;
        while (!condition())
        {
            if (Environment.TickCount64 > deadline)
            {
                await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
                await using var connection = await dataSource.OpenConnectionAsync();
                await using var command = new NpgsqlCommand($"SELECT string_agg(concat_ws(' ', seq, state, run_at, attempt, isolated, started, lease_token, lease_expires), '; ') FROM {_schema}.jobs", connection);
                Assert.Fail($"Gave up waiting until {what}. Starts: {string.Join(", ", _starts)}. Rows: {await command.ExecuteScalarAsync()}. Logs:\n{string.Join("\n", _logs)}");
            }

            await Task.Delay(10);
        }
    }

    private async Task<long> LeasedAsync()
    {
        await using var dataSource = NpgsqlDataSource.Create(server.ConnectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var command = new NpgsqlCommand($"SELECT COUNT(*) FROM {_schema}.jobs WHERE state = 1", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

/// <summary>A handler start: which process, which job, which attempt.</summary>
public sealed record Start(string Process, int Number, int Attempt);

/// <summary>One process's handler settings: its name, the shared start log, and the gate its job 1 waits at.</summary>
public sealed record FreezeProbe(string Process, ConcurrentQueue<Start> Starts, Task Gate);

public sealed class FreezeHandler(FreezeProbe probe) : IJobHandler<WorkJob>
{
    public async Task HandleAsync(WorkJob job, JobContext context, CancellationToken cancellationToken)
    {
        probe.Starts.Enqueue(new Start(probe.Process, job.Number, context.Attempt));
        if (job.Number == 1)
        {
            await probe.Gate;
        }
    }
}

/// <summary>Keeps each process's log lines of Information and above, to explain a failure.</summary>
public sealed class LogLines(string process, ConcurrentQueue<string> lines) : ILoggerProvider, ILogger
{
    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            lines.Enqueue($"{process} {logLevel}: {formatter(state, exception)} {exception?.GetType().Name} {exception?.Message}");
        }
    }

    public void Dispose()
    {
    }
}
