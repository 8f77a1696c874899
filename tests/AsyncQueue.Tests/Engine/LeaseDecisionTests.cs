using System.Collections.Concurrent;
using System.Threading.Channels;
using AsyncQueue.Retry;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;
using NSubstitute.ExceptionExtensions;

namespace AsyncQueue.Tests.Engine;

// NSubstitute specifies a ValueTask-returning member by calling it: that call is a specification, never awaited.
#pragma warning disable CA2012

/// <summary>
/// The dispatcher's decisions about leases, over a durable store stubbed through the contract: what a rescued job is
/// charged, no start after a lost lease, isolated starts recorded first, unreadable jobs and fenced-out outcomes.
/// </summary>
public sealed class LeaseDecisionTests : IAsyncDisposable
{
    private const string Queue = "leased";
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);
    private readonly Channel<JobRecord> _ready = Channel.CreateUnbounded<JobRecord>();
    private readonly Channel<JobRecord> _expired = Channel.CreateUnbounded<JobRecord>();
    private readonly ConcurrentQueue<(JobId Id, int Attempt)> _started = new();
    private readonly IJobStore _store = Substitute.For<IJobStore>();
    private readonly IDeadLetterObserver _observer = Substitute.For<IDeadLetterObserver>();
    private readonly TaskCompletionSource<(JobRecord Job, DateTimeOffset RunAt)> _rescheduled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<(JobRecord Job, DeadLetterTarget Target)> _deadLettered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<JobRecord> _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TestHost? _host;

    public LeaseDecisionTests()
    {
        _store.Capabilities.Returns(JobStoreCapabilities.Durable);
        _store.OpenConsumer(Queue).Returns(_ => Consumer(_ready));
        _store.OpenExpiredLeaseConsumer().Returns(_ => Consumer(_expired));
        _store.CountAsync(Arg.Any<string>(), Arg.Any<CancellationToken>()).Returns(new ValueTask<QueueCounts>(new QueueCounts(0, 0, 0)));
        _store.RescheduleAsync(Arg.Any<JobRecord>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                _rescheduled.TrySetResult((call.Arg<JobRecord>(), call.Arg<DateTimeOffset>()));
                return ValueTask.CompletedTask;
            });
        _store.DeadLetterAsync(Arg.Any<JobRecord>(), Arg.Any<DeadLetterTarget>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                var (job, target) = (call.Arg<JobRecord>(), call.Arg<DeadLetterTarget>());
                _deadLettered.TrySetResult((job, target));
                return new ValueTask<DeadLetterEntry>(new DeadLetterEntry(job, target.Name, _time.GetUtcNow()));
            });
        _store.CompleteAsync(Arg.Any<JobRecord>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                _completed.TrySetResult(call.Arg<JobRecord>());
                return ValueTask.CompletedTask;
            });
    }

    [Fact]
    public async Task Rescue_StartNotRecorded_HandsJobBackUnchargedAndIsolated()
    {
        await StartAsync(RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(200)));
        var job = Leased(attempt: 2);

        await _expired.Writer.WriteAsync(job);
        var (rescheduled, runAt) = await _rescheduled.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Same(job, rescheduled);
        Assert.Equal(1, rescheduled.Attempt);
        Assert.True(rescheduled.Isolated);
        Assert.Empty(rescheduled.Errors);
        Assert.Equal(Start, runAt);
        Assert.False(_deadLettered.Task.IsCompleted);
    }

    [Fact]
    public async Task Rescue_StartRecordedWithAttemptsLeft_ChargesTheCrashAndRetriesIsolatedEvenPastTheExceptionFilter()
    {
        // The filter refuses every handler exception; a crash is not one, so the policy's limit and backoff still apply.
        await StartAsync(new RetryPolicy { MaxRetries = 2, Backoff = RetryBackoff.Fixed, Delay = TimeSpan.FromMilliseconds(200), Jitter = 0, ShouldRetry = _ => false });
        var job = Leased(attempt: 1, isolated: true, startRecorded: true);

        await _expired.Writer.WriteAsync(job);
        var (rescheduled, runAt) = await _rescheduled.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(1, rescheduled.Attempt);
        Assert.True(rescheduled.Isolated);
        Assert.Equal(Start.AddMilliseconds(200), runAt);
        var error = Assert.Single(rescheduled.Errors);
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, error.ExceptionType);
        Assert.Equal(1, error.Attempt);
    }

    [Fact]
    public async Task Rescue_StartRecordedOnLastAttempt_DeadLettersWithTheCrashAndTellsObservers()
    {
        await StartAsync(RetryPolicy.Fixed(2, TimeSpan.FromMilliseconds(200)));
        var job = Leased(attempt: 3, isolated: true, startRecorded: true);

        await _expired.Writer.WriteAsync(job);
        var (deadLettered, target) = await _deadLettered.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(Queue + "-dead-letter", target.Name);
        Assert.Equal(typeof(JobLeaseExpiredException).FullName, deadLettered.Errors[^1].ExceptionType);
        await Poll.UntilAsync(() => _observer.ReceivedCalls().Any(), "the observer was told");
        Assert.False(_rescheduled.Task.IsCompleted);
    }

    [Fact]
    public async Task Fetch_LeaseAboutToExpire_HandsJobBackWithoutStartingOrChargingIt()
    {
        await StartAsync(RetryPolicy.Default);
        var job = Leased(attempt: 1, leaseExpires: Start + TimeSpan.FromMilliseconds(100));

        await _ready.Writer.WriteAsync(job);
        var (rescheduled, runAt) = await _rescheduled.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Same(job, rescheduled);
        Assert.Equal(0, rescheduled.Attempt);
        Assert.Equal(Start, runAt);
        Assert.Empty(_started);
    }

    [Fact]
    public async Task Fetch_LeaseLostBeforeStartAndAlreadyRescued_NeitherStartsNorReportsAStoreFailure()
    {
        _store.RescheduleAsync(Arg.Any<JobRecord>(), Arg.Any<DateTimeOffset>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                _rescheduled.TrySetResult((call.Arg<JobRecord>(), call.Arg<DateTimeOffset>()));
                return ValueTask.FromException(new JobLeaseLostException(call.Arg<JobRecord>().Id, 1, "hand back"));
            });
        await StartAsync(RetryPolicy.Default);

        await _ready.Writer.WriteAsync(Leased(attempt: 1, leaseExpires: Start - TimeSpan.FromSeconds(4)));
        await _rescheduled.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await _host!.StopAsync(CancellationToken.None);

        Assert.Empty(_started);
        var logs = _host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        Assert.Contains(logs, l => l.Id.Id == 17 && l.Level == LogLevel.Warning);
        Assert.DoesNotContain(logs, l => l.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Fetch_IsolatedJobWhoseStartIsRecorded_RunsAfterTheRecord()
    {
        _store.MarkStartedAsync(Arg.Any<JobRecord>(), Arg.Any<CancellationToken>()).Returns(call =>
        {
            Assert.Empty(_started);
            return new ValueTask<bool>(true);
        });
        await StartAsync(RetryPolicy.Default);
        var job = Leased(attempt: 1, isolated: true);

        await _ready.Writer.WriteAsync(job);
        await _completed.Task.WaitAsync(TimeSpan.FromMinutes(1));

        await _store.Received(1).MarkStartedAsync(job, Arg.Any<CancellationToken>());
        Assert.Equal([(job.Id, 1)], _started);
    }

    [Fact]
    public async Task Fetch_IsolatedJobWhoseLeaseWasLost_IsNeverStarted()
    {
        var marked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _store.MarkStartedAsync(Arg.Any<JobRecord>(), Arg.Any<CancellationToken>()).Returns(_ =>
        {
            marked.TrySetResult();
            return new ValueTask<bool>(false);
        });
        await StartAsync(RetryPolicy.Default);

        await _ready.Writer.WriteAsync(Leased(attempt: 1, isolated: true));
        await marked.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await _host!.StopAsync(CancellationToken.None);

        Assert.Empty(_started);
        Assert.False(_completed.Task.IsCompleted || _rescheduled.Task.IsCompleted || _deadLettered.Task.IsCompleted);
    }

    [Fact]
    public async Task Fetch_IsolatedJobWhoseStartCannotBeRecorded_IsHandedBackUnstartedAndUncharged()
    {
        _store.MarkStartedAsync(Arg.Any<JobRecord>(), Arg.Any<CancellationToken>())
            .Returns(_ => ValueTask.FromException<bool>(new InvalidOperationException("the database is down")));
        await StartAsync(RetryPolicy.Default);
        var job = Leased(attempt: 1, isolated: true);

        await _ready.Writer.WriteAsync(job);
        var (rescheduled, runAt) = await _rescheduled.Task.WaitAsync(TimeSpan.FromMinutes(1));

        Assert.Same(job, rescheduled);
        Assert.Equal(0, rescheduled.Attempt);
        Assert.True(rescheduled.Isolated);
        Assert.Equal(Start, runAt);
        Assert.Empty(_started);
    }

    [Fact]
    public async Task Complete_LeaseLost_LogsOneWarningThatTheOutcomeWasDiscardedAndNoError()
    {
        _store.CompleteAsync(Arg.Any<JobRecord>(), Arg.Any<CancellationToken>())
            .Returns(call =>
            {
                _completed.TrySetResult(call.Arg<JobRecord>());
                return ValueTask.FromException(new JobLeaseLostException(call.Arg<JobRecord>().Id, 1, "complete"));
            });
        await StartAsync(RetryPolicy.Default);

        await _ready.Writer.WriteAsync(Leased(attempt: 1));
        await _completed.Task.WaitAsync(TimeSpan.FromMinutes(1));
        await _host!.StopAsync(CancellationToken.None);

        var logs = _host.Services.GetRequiredService<FakeLogCollector>().GetSnapshot();
        var warning = Assert.Single(logs, l => l.Level == LogLevel.Warning);
        Assert.Equal(16, warning.Id.Id);
        Assert.Contains("discarded", warning.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs, l => l.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Fetch_UnreadableJob_DeadLettersItWithItsReasonWithoutRunningAnything()
    {
        await StartAsync(RetryPolicy.Default);
        var unreadable = new JobRecord(JobId.NewId(), "probe", Queue, new UnreadableJob("probe", "{not json", "The stored payload does not deserialize.", "System.Text.Json.JsonException"), Start)
        {
            Attempt = 1,
            LeaseExpiresAt = Start + TimeSpan.FromSeconds(30),
        };

        await _ready.Writer.WriteAsync(unreadable);
        var (deadLettered, _) = await _deadLettered.Task.WaitAsync(TimeSpan.FromMinutes(1));

        var error = Assert.Single(deadLettered.Errors);
        Assert.Equal("System.Text.Json.JsonException", error.ExceptionType);
        Assert.Equal("The stored payload does not deserialize.", error.Message);
        Assert.Empty(_started);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }

    private static IJobConsumer Consumer(Channel<JobRecord> jobs)
    {
        var consumer = Substitute.For<IJobConsumer>();
        consumer.FetchAsync(Arg.Any<CancellationToken>()).Returns(call => jobs.Reader.ReadAsync(call.Arg<CancellationToken>()));
        return consumer;
    }

    private static JobRecord Leased(int attempt, bool isolated = false, bool startRecorded = false, DateTimeOffset? leaseExpires = null) =>
        new(JobId.NewId(), "probe", Queue, new Probe(attempt), Start)
        {
            Attempt = attempt,
            Isolated = isolated,
            StartRecorded = startRecorded,
            LeaseExpiresAt = leaseExpires ?? Start + TimeSpan.FromSeconds(30),
        };

    private async Task StartAsync(IRetryPolicy retry)
    {
        _host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddLogging(logging => logging.AddFakeLogging());
            services.AddSingleton<TimeProvider>(_time);
            services.AddSingleton(_started);
            services.AddSingleton(_observer);
            services.AddSingleton(_store);
            queue.AddHandler<Probe, ProbeHandler>(Queue, q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = retry;
            });
        });
    }

    /// <summary>A job that records each start of its handler.</summary>
    [JobKind("probe")]
    public sealed record Probe(int Number);

    public sealed class ProbeHandler(ConcurrentQueue<(JobId, int)> started) : IJobHandler<Probe>
    {
        public Task HandleAsync(Probe job, JobContext context, CancellationToken cancellationToken)
        {
            started.Enqueue((context.JobId, context.Attempt));
            return Task.CompletedTask;
        }
    }
}
