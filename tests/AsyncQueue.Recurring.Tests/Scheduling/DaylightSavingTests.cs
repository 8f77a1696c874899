using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Recurring.Tests.Scheduling;

/// <summary>
/// A daily job at a wall-clock time in a zone with daylight-saving time, stepped tick by tick on a fake clock across
/// the change: the tick in the skipped hour runs once, right after the gap; the tick in the repeated hour runs once, in
/// its first pass. Misfires are skipped here, so a tick the scheduler failed to wake for would be missing, not late.
/// </summary>
public sealed class DaylightSavingTests
{
    private static DateTimeOffset Utc(int month, int day, int hour, int minute) => new(2026, month, day, hour, minute, 0, TimeSpan.Zero);

    [Fact]
    public Task EuropeBerlin_SpringForward_SkippedTickRunsOnceAfterTheGap() =>
        AssertTicksAsync(
            "Europe/Berlin",
            "30 2 * * *",
            start: Utc(3, 27, 12, 0),
            end: Utc(3, 30, 12, 0),
            Utc(3, 28, 1, 30), // 02:30 CET
            Utc(3, 29, 1, 0),  // 02:30 does not exist on March 29: 02:00 CET jumps to 03:00 CEST, the first moment after the gap
            Utc(3, 30, 0, 30)); // 02:30 CEST

    [Fact]
    public Task EuropeBerlin_FallBack_RepeatedTickRunsOnce() =>
        AssertTicksAsync(
            "Europe/Berlin",
            "30 2 * * *",
            start: Utc(10, 23, 12, 0),
            end: Utc(10, 26, 12, 0),
            Utc(10, 24, 0, 30), // 02:30 CEST
            Utc(10, 25, 0, 30), // 02:30 CEST, first pass; 02:30 CET an hour later (01:30Z) does not run
            Utc(10, 26, 1, 30)); // 02:30 CET

    [Fact]
    public Task AmericaNewYork_SpringForward_SkippedTickRunsOnceAfterTheGap() =>
        AssertTicksAsync(
            "America/New_York",
            "30 2 * * *",
            start: Utc(3, 6, 12, 0),
            end: Utc(3, 9, 12, 0),
            Utc(3, 7, 7, 30), // 02:30 EST
            Utc(3, 8, 7, 0),  // 02:30 does not exist on March 8: 02:00 EST jumps to 03:00 EDT
            Utc(3, 9, 6, 30)); // 02:30 EDT

    [Fact]
    public Task AmericaNewYork_FallBack_RepeatedTickRunsOnce() =>
        AssertTicksAsync(
            "America/New_York",
            "30 1 * * *",
            start: Utc(10, 30, 12, 0),
            end: Utc(11, 2, 12, 0),
            Utc(10, 31, 5, 30), // 01:30 EDT
            Utc(11, 1, 5, 30),  // 01:30 EDT, first pass; 01:30 EST an hour later (06:30Z) does not run
            Utc(11, 2, 6, 30)); // 01:30 EST

    [Fact]
    public Task EuropeBerlin_FallBack_IntervalInTheHourFieldRunsInBothPasses() =>
        AssertTicksAsync(
            "Europe/Berlin",
            "0 */1 * * *",
            start: Utc(10, 24, 23, 30),
            end: Utc(10, 25, 2, 30),
            Utc(10, 25, 0, 0), // 02:00 CEST
            Utc(10, 25, 1, 0), // 02:00 CET: an interval names elapsed time, so the repeated hour runs again
            Utc(10, 25, 2, 0)); // 03:00 CET

    private static async Task AssertTicksAsync(string zone, string cron, DateTimeOffset start, DateTimeOffset end, params DateTimeOffset[] expected)
    {
        var timeZone = TimeZoneInfo.FindSystemTimeZoneById(zone);
        await using var host = await RecurringHost.StartAsync(new FakeTimeProvider(start), queue => queue.AddRecurringJob("daily", cron, () => new TickJob(), o =>
        {
            o.TimeZone = timeZone;
            o.Misfire = RecurringMisfirePolicy.Skip;
            o.MisfireThreshold = TimeSpan.Zero;
        }));

        var steps = await host.StepThroughAsync("daily", end);
        await host.WaitForJobsAsync();

        Assert.Equal(expected, steps);
        Assert.Equal(expected.Select(t => (DateTimeOffset?)t), host.Recorder.Ticks);
        Assert.All(host.Recorder.Ticks, t => Assert.Equal(TimeSpan.Zero, t!.Value.Offset));
    }
}
