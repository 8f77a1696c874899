using System.Net;
using AsyncQueue.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Dashboard.Tests.Pages;

/// <summary>
/// The dashboard over a store that declares neither job status nor pause (as a broker's does): it offers neither, and
/// a job id is looked up in the dead-letter queues instead of failing the page.
/// </summary>
public sealed class StoreWithoutStatusTests
{
    [Fact]
    public async Task Overview_StoreWithoutPause_ShowsNoPauseButton()
    {
        await using var app = await StartAsync();

        var page = await app.SendAsync("GET", "/jobs", IPAddress.Loopback);

        Assert.Equal(200, page.Status);
        Assert.DoesNotContain("/queues/sign-up/pause", page.Body, StringComparison.Ordinal);
        Assert.Contains("This store cannot pause a queue.", page.Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task JobPage_StoreWithoutStatus_RedirectsADeadLetterAndExplainsAnyOtherId()
    {
        await using var app = await StartAsync();
        var id = (await app.Services.GetRequiredService<IJobQueue>().EnqueueAsync(new SignUp("ada@example.com", "Ada"))).JobId;
        var deadLetters = app.Services.GetRequiredService<IDeadLetterQueue>();
        using (var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2)))
        {
            while (await deadLetters.GetAsync(id, hangGuard.Token) is null)
            {
                await Task.Delay(10, hangGuard.Token);
            }
        }

        var dead = await app.SendAsync("GET", $"/jobs/job/{id}", IPAddress.Loopback);
        var unknown = await app.SendAsync("GET", $"/jobs/job/{JobId.NewId()}", IPAddress.Loopback);

        Assert.Equal(302, dead.Status);
        Assert.EndsWith($"/jobs/dead-letter/{id}", dead.Headers.Location.ToString(), StringComparison.Ordinal);
        Assert.Equal(404, unknown.Status);
        Assert.Contains("This store keeps no status of its jobs by id", unknown.Body, StringComparison.Ordinal);
    }

    private static Task<InMemoryDashboardApp> StartAsync() =>
        InMemoryDashboardApp.StartAsync(jobs: jobs =>
        {
            // The in-memory store as the job queue registered it, minus the two capabilities.
            var registered = jobs.Services.Last(d => d.ServiceType == typeof(IJobStore));
            jobs.Services.Remove(registered);
            jobs.Services.AddSingleton<IJobStore>(services => new WithoutStatus((IJobStore)ActivatorUtilities.CreateInstance(services, registered.ImplementationType!)));
        });

    /// <summary>A store that passes every call on and declares no <see cref="JobStoreCapabilities.JobStatus"/> and no <see cref="JobStoreCapabilities.Pause"/>.</summary>
    private sealed class WithoutStatus(IJobStore inner) : IJobStore
    {
        public JobStoreCapabilities Capabilities => inner.Capabilities & ~(JobStoreCapabilities.JobStatus | JobStoreCapabilities.Pause);

        public IDeadLetterQueue DeadLetters => inner.DeadLetters;

        public ValueTask<EnqueueResult> EnqueueAsync(JobRecord job, CancellationToken cancellationToken) => inner.EnqueueAsync(job, cancellationToken);

        public ValueTask<IReadOnlyList<EnqueueResult>> EnqueueBatchAsync(IReadOnlyList<JobRecord> jobs, CancellationToken cancellationToken) => inner.EnqueueBatchAsync(jobs, cancellationToken);

        public IJobConsumer OpenConsumer(string queue) => inner.OpenConsumer(queue);

        public IJobConsumer OpenExpiredLeaseConsumer() => inner.OpenExpiredLeaseConsumer();

        public ValueTask<bool> MarkStartedAsync(JobRecord job, CancellationToken cancellationToken) => inner.MarkStartedAsync(job, cancellationToken);

        public ValueTask CompleteAsync(JobRecord job, CancellationToken cancellationToken) => inner.CompleteAsync(job, cancellationToken);

        public ValueTask RescheduleAsync(JobRecord job, DateTimeOffset runAt, CancellationToken cancellationToken) => inner.RescheduleAsync(job, runAt, cancellationToken);

        public ValueTask<DeadLetterEntry> DeadLetterAsync(JobRecord job, DeadLetterTarget target, CancellationToken cancellationToken) => inner.DeadLetterAsync(job, target, cancellationToken);

        public ValueTask MarkCancelledAsync(JobRecord job, CancellationToken cancellationToken) => inner.MarkCancelledAsync(job, cancellationToken);

        public ValueTask<CancelJobResult> CancelAsync(JobId id, CancellationToken cancellationToken) => throw new NotSupportedException("The job queue asked the store to cancel by id.");

        public ValueTask<JobInfo?> GetJobAsync(JobId id, CancellationToken cancellationToken) => throw new NotSupportedException("The job queue asked the store for a job's status.");

        public ValueTask SetPausedAsync(string queue, bool paused, CancellationToken cancellationToken) => throw new NotSupportedException("The job queue asked the store to pause.");

        public ValueTask<QueueCounts> CountAsync(string queue, CancellationToken cancellationToken) => inner.CountAsync(queue, cancellationToken);
    }
}
