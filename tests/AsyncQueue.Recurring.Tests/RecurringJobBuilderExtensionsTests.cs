using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests;

/// <summary>Bad input fails when the recurring job is added, or when the host starts, with an error that names it.</summary>
public sealed class RecurringJobBuilderExtensionsTests
{
    private static IJobQueueBuilder NewBuilder() => new ServiceCollection().AddJobQueue().AddHandler<TickJob, TickJobHandler>();

    [Theory]
    [InlineData("not a cron")]
    [InlineData("61 * * * *")]
    [InlineData("* * * * * * *")]
    public void AddRecurringJob_InvalidCron_ThrowsArgumentExceptionNamingJobAndExpression(string cron)
    {
        var error = Assert.Throws<ArgumentException>(() => NewBuilder().AddRecurringJob("cleanup", cron, () => new TickJob()));

        Assert.Equal("cron", error.ParamName);
        Assert.Contains("'cleanup'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{cron}'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRecurringJob_DuplicateName_ThrowsArgumentExceptionNamingIt()
    {
        var builder = NewBuilder().AddRecurringJob("cleanup", "0 3 * * *", () => new TickJob());

        var error = Assert.Throws<ArgumentException>(() => builder.AddRecurringJob("cleanup", "0 4 * * *", () => new TickJob()));

        Assert.Equal("name", error.ParamName);
        Assert.Contains("'cleanup'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(86_401)]
    public void AddRecurringJob_MisfireThresholdOutOfRange_ThrowsNamingTheProperty(int seconds)
    {
        var error = Assert.Throws<ArgumentException>(() => NewBuilder().AddRecurringJob("cleanup", "0 3 * * *", () => new TickJob(), o => o.MisfireThreshold = TimeSpan.FromSeconds(seconds)));

        Assert.Contains("MisfireThreshold", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRecurringJob_EnqueueOptionsWithOwnKey_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentException>(() => NewBuilder().AddRecurringJob("cleanup", "0 3 * * *", () => new TickJob(), o => o.Enqueue = new EnqueueOptions { IdempotencyKey = "mine" }));

        Assert.Contains("IdempotencyKey", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRecurringJob_NullTimeZone_ThrowsNamingTheProperty()
    {
        var error = Assert.Throws<ArgumentException>(() => NewBuilder().AddRecurringJob("cleanup", "0 3 * * *", () => new TickJob(), o => o.TimeZone = null!));

        Assert.Contains("TimeZone", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_JobTypeWithoutHandler_ThrowsJobTypeNotRegisteredException()
    {
        var error = await Assert.ThrowsAsync<JobTypeNotRegisteredException>(() => JobQueueTestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton<TimeProvider>(new FakeTimeProvider());
            queue.AddRecurringJob("orphan", "0 3 * * *", () => new TickJob());
        }));

        Assert.Equal(typeof(TickJob), error.JobType);
    }

    [Fact]
    public async Task AddRecurringJob_SixFields_ReadsSecondsFirst()
    {
        var start = new DateTimeOffset(2026, 6, 1, 9, 0, 0, TimeSpan.Zero);
        await using var host = await RecurringHost.StartAsync(new FakeTimeProvider(start), queue => queue.AddRecurringJob("fast", "*/15 * * * * *", () => new TickJob()));

        var steps = await host.StepThroughAsync("fast", start.AddMinutes(1));
        await host.WaitForJobsAsync();

        DateTimeOffset[] expected = [start.AddSeconds(15), start.AddSeconds(30), start.AddSeconds(45), start.AddSeconds(60)];
        Assert.Equal(expected, steps);
        Assert.Equal(expected.Select(t => (DateTimeOffset?)t), host.Recorder.Ticks);
    }
}
