using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests.Scheduling;

/// <summary>
/// Ticks missed while the process was stalled, or down (a restart on the same SQLite file): one job for all of them
/// with <see cref="RecurringMisfirePolicy.FireOnceNow"/>, none with <see cref="RecurringMisfirePolicy.Skip"/>; either
/// way the schedule goes on at its next tick, and a restart that missed nothing enqueues nothing.
/// </summary>
public sealed class MisfireTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 6, 1, 9, 30, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Ten = new(2026, 6, 1, 10, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Directory.CreateTempSubdirectory("asyncqueue-recurring-").FullName;

    private string Database => Path.Combine(_folder, "jobs.db");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        Directory.Delete(_folder, recursive: true);
    }

    [Theory]
    [InlineData(RecurringMisfirePolicy.FireOnceNow, new[] { 10, 15, 16 })]
    [InlineData(RecurringMisfirePolicy.Skip, new[] { 10, 16 })]
    public async Task ProcessStalledFiveHours_MissedTicks_FireOnceOrSkipThenKeepSchedule(RecurringMisfirePolicy policy, int[] expectedHours)
    {
        await using var host = await RecurringHost.StartAsync(new FakeTimeProvider(Start), queue => Hourly(queue, policy));
        await host.AdvanceToAsync(Ten);

        // The process stalls: its timer fires 5 hours 10 minutes late, with the 11:00 to 15:00 ticks all past the threshold.
        await host.AdvanceToAsync(Ten.AddHours(5).AddMinutes(10));
        Assert.Equal(Ten.AddHours(6), host.Jobs.List().Single().NextRun);
        await host.AdvanceToAsync(Ten.AddHours(6));
        await host.WaitForJobsAsync();

        Assert.Equal(expectedHours.Select(h => (DateTimeOffset?)Ten.AddHours(h - 10)), host.Recorder.Ticks);
    }

    [Theory]
    [InlineData(RecurringMisfirePolicy.FireOnceNow)]
    [InlineData(RecurringMisfirePolicy.Skip)]
    public async Task RestartAfterFiveHoursDown_MissedTicks_FireOnceOrSkip(RecurringMisfirePolicy policy)
    {
        var fireOnce = policy == RecurringMisfirePolicy.FireOnceNow;
        var recorder = new TickRecorder();
        await using (var before = await StartOnFileAsync(Start, policy, recorder))
        {
            // FireOnceNow's first start on a durable store offers the latest past tick (09:00), which no process enqueued.
            await before.AdvanceToAsync(Ten);
            await Poll.UntilAsync(() => recorder.Ticks.Count == (fireOnce ? 2 : 1), "the first process's ticks ran");
        }

        var restartedAt = Ten.AddHours(5).AddMinutes(10);
        await using var after = await StartOnFileAsync(restartedAt, policy, recorder);
        DateTimeOffset?[] beforeStop = fireOnce ? [Ten.AddHours(-1), Ten] : [Ten];
        DateTimeOffset?[] atRestart = fireOnce ? [Ten.AddHours(5)] : [];
        await Poll.UntilAsync(() => recorder.Ticks.Count == beforeStop.Length + atRestart.Length, "the restart's enqueue ran");
        Assert.Equal(beforeStop.Length + atRestart.Length, JobsInFile());

        Assert.Equal(Ten.AddHours(6), after.Jobs.List().Single().NextRun);
        await after.AdvanceToAsync(Ten.AddHours(6));
        DateTimeOffset?[] expected = [.. beforeStop, .. atRestart, Ten.AddHours(6)];
        await Poll.UntilAsync(() => recorder.Ticks.Count == expected.Length, "the 16:00 tick ran");

        Assert.Equal(expected, recorder.Ticks);
        Assert.Equal(expected.Length, JobsInFile());
    }

    [Fact]
    public async Task RestartThatMissedNothing_FireOnceNow_LastTickFoundInStoreNotEnqueuedAgain()
    {
        var recorder = new TickRecorder();
        await using (var before = await StartOnFileAsync(Start, RecurringMisfirePolicy.FireOnceNow, recorder))
        {
            await before.AdvanceToAsync(Ten);
            await Poll.UntilAsync(() => recorder.Ticks.Count == 2, "the 09:00 tick (offered at the first start) and the 10:00 tick ran");
        }

        // Restarted at 10:20: the 10:00 tick is offered to the store again, which refuses it by its key.
        await using var after = await StartOnFileAsync(Ten.AddMinutes(20), RecurringMisfirePolicy.FireOnceNow, recorder);

        Assert.Equal(Ten, after.Jobs.List().Single().LastRun);
        Assert.Equal(2, JobsInFile());
        Assert.Equal([Ten.AddHours(-1), Ten], recorder.Ticks);
    }

    private static void Hourly(IJobQueueBuilder queue, RecurringMisfirePolicy policy) =>
        queue.AddRecurringJob("hourly", "0 * * * *", () => new TickJob(), o => o.Misfire = policy);

    private Task<RecurringHost> StartOnFileAsync(DateTimeOffset at, RecurringMisfirePolicy policy, TickRecorder recorder) =>
        RecurringHost.StartAsync(new FakeTimeProvider(at), queue => Hourly(queue.UseSqlite($"Data Source={Database}"), policy), recorder);

    // Every job the file holds, succeeded ones included (kept for the queue's FinishedJobRetention, a day by default).
    private long JobsInFile()
    {
        using var connection = new SqliteConnection($"Data Source={Database}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM asyncqueue_jobs";
        return (long)command.ExecuteScalar()!;
    }
}
