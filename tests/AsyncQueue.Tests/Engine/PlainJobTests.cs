using System.Collections.Concurrent;
using AsyncQueue.Retry;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Tests.Engine;

/// <summary>
/// A plain job (no options) waits in the in-memory queue by value and runs in its consumer's reused record. Nothing a
/// handler, a retry or the dead-letter queue keeps may change when that record is refilled for the next job.
/// </summary>
public sealed class PlainJobTests
{
    public sealed record Note(int N);

    /// <summary>Keeps every context it is given; fails job 0 for good and every other tenth job's first attempt.</summary>
    public sealed class NoteHandler(ConcurrentQueue<(Note Job, JobContext Context)> seen, Countdown succeeded) : IJobHandler<Note>
    {
        public Task HandleAsync(Note job, JobContext context, CancellationToken cancellationToken)
        {
            seen.Enqueue((job, context));
            if (job.N == 0)
            {
                throw new PermanentJobException("note 0 is refused");
            }

            if (job.N % 10 == 0 && context.Attempt == 1)
            {
                throw new InvalidOperationException($"note {job.N} fails once");
            }

            succeeded.Signal();
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task PlainJobs_KeptContextsRetriesAndDeadLetters_EachDescribeTheirOwnJob()
    {
        const int Jobs = 1_000;
        var seen = new ConcurrentQueue<(Note Job, JobContext Context)>();
        var succeeded = new Countdown(Jobs - 1);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(seen);
            services.AddSingleton(succeeded);
            queue.AddHandler<Note, NoteHandler>(q =>
            {
                q.MaxConcurrency = 1;
                q.Retry = RetryPolicy.Fixed(1, TimeSpan.Zero);
            });
        });

        var ids = new JobId[Jobs];
        for (var n = 0; n < Jobs; n++)
        {
            ids[n] = (await host.Queue.EnqueueAsync(new Note(n))).JobId;
        }

        await succeeded.WaitAsync();
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();
        await Poll.UntilAsync(() => deadLetters.CountAsync("Note-dead-letter").AsTask().Result == 1, "note 0 was dead-lettered");

        // Every context a handler kept still names its own job, long after its record was refilled.
        var contexts = seen.ToArray();
        Assert.Equal(Jobs + (Jobs / 10) - 1, contexts.Length);
        Assert.All(contexts, c => Assert.Equal(ids[c.Job.N], c.Context.JobId));
        Assert.All(contexts, c => Assert.Equal(("Note", "Note"), (c.Context.Kind, c.Context.Queue)));

        // Retried jobs ran a second attempt with their own id and value.
        var retried = contexts.Where(c => c.Context.Attempt == 2).Select(c => c.Job.N).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, (Jobs / 10) - 1).Select(i => i * 10), retried);

        // The dead letter kept note 0, not whichever job its record held next.
        var entry = Assert.Single(await deadLetters.ListAsync("Note-dead-letter"));
        Assert.Equal((ids[0], new Note(0)), (entry.JobId, entry.Job));
        Assert.Equal("note 0 is refused", Assert.Single(entry.Errors).Message);
    }

    [Fact]
    public async Task EnqueuedAt_FakeClock_IsTheClocksTimeExactly()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 1, 9, 0, 0, 123, TimeSpan.Zero));
        var seen = new ConcurrentQueue<(Note Job, JobContext Context)>();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton(seen);
            services.AddSingleton(new Countdown(1));
            queue.AddHandler<Note, NoteHandler>();
        });

        await host.Queue.EnqueueAsync(new Note(1));
        await Poll.UntilAsync(() => !seen.IsEmpty, "the job ran");

        Assert.Equal(time.GetUtcNow(), Assert.Single(seen).Context.EnqueuedAt);
    }

    [Fact]
    public async Task EnqueuedAt_SystemClock_IsWithinTheCoarseClocksTickOfTheEnqueue()
    {
        var seen = new ConcurrentQueue<(Note Job, JobContext Context)>();
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(seen);
            services.AddSingleton(new Countdown(1));
            queue.AddHandler<Note, NoteHandler>();
        });

        var before = TimeProvider.System.GetUtcNow();
        await host.Queue.EnqueueAsync(new Note(1));
        var after = TimeProvider.System.GetUtcNow();
        await Poll.UntilAsync(() => !seen.IsEmpty, "the job ran");

        // The coarse clock's tick is at most about 16 ms (Windows); Linux's is 1 to 10 ms.
        var enqueuedAt = Assert.Single(seen).Context.EnqueuedAt;
        Assert.InRange(enqueuedAt, before - TimeSpan.FromMilliseconds(50), after + TimeSpan.FromMilliseconds(50));
    }

    [Fact]
    public async Task EnqueueAsync_SameJobTypeInTwoHostsInTurn_EachJobRunsInItsOwnHost()
    {
        // A job type's registration is found through a table each registry keeps: the other host's must never answer.
        const int Jobs = 100;
        var hosts = new TestHost[2];
        var seen = new ConcurrentQueue<(Note Job, JobContext Context)>[2];
        try
        {
            for (var h = 0; h < hosts.Length; h++)
            {
                var own = seen[h] = new ConcurrentQueue<(Note Job, JobContext Context)>();
                hosts[h] = await TestHost.StartAsync((services, queue) =>
                {
                    services.AddSingleton(own);
                    services.AddSingleton(new Countdown(Jobs));

                    // A singleton handler, which a registration resolves once and keeps: a registration of the other
                    // host would run this host's jobs in the other host's handler.
                    services.AddSingleton<IJobHandler<Note>, NoteHandler>();
                    queue.AddHandler<Note, NoteHandler>();
                });
            }

            // Jobs 1, 3, 5, ... go to the first host and 2, 4, 6, ... to the second, one enqueue each in turn.
            for (var n = 1; n <= 2 * Jobs; n++)
            {
                await hosts[(n + 1) % 2].Queue.EnqueueAsync(new Note(n));
            }

            for (var h = 0; h < hosts.Length; h++)
            {
                await hosts[h].Services.GetRequiredService<Countdown>().WaitAsync();
                var odd = h == 0;
                // Every tenth note's first attempt fails (NoteHandler), so it is seen twice, both times here.
                Assert.Equal(Jobs, seen[h].Select(s => s.Job.N).Distinct().Count());
                Assert.All(seen[h], s => Assert.Equal(odd, s.Job.N % 2 == 1));
            }
        }
        finally
        {
            foreach (var host in hosts)
            {
                if (host is not null)
                {
                    await host.DisposeAsync();
                }
            }
        }
    }
}
