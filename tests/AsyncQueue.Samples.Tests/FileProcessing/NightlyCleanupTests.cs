using System.Text.RegularExpressions;
using AsyncQueue.Recurring;
using FileProcessing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Time.Testing;

namespace AsyncQueue.Samples.Tests.FileProcessing;

/// <summary>The FileProcessing sample's nightly cleanup: at 03:00 Berlin time, winter and summer; old .gz files only.</summary>
public sealed partial class NightlyCleanupTests : IDisposable
{
    private readonly TempFolder _root = new();

    public void Dispose() => _root.Dispose();

    [Theory]
    [InlineData("2026-01-10T12:00:00Z", "2026-01-11T02:00:00Z")] // 03:00 CET
    [InlineData("2026-07-10T12:00:00Z", "2026-07-11T01:00:00Z")] // 03:00 CEST
    public async Task NextRun_WinterAndSummer_ThreeOClockBerlinTime(string now, string expected)
    {
        using var host = await StartAsync(new FakeTimeProvider(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture)));

        var job = host.Services.GetRequiredService<IRecurringJobs>().List().Single();

        Assert.Equal(NightlyCleanup.Name, job.Name);
        Assert.Equal("Europe/Berlin", job.TimeZone.Id);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), job.NextRun);
    }

    [Fact]
    public async Task Cleanup_Triggered_DeletesOnlyCompressedFilesOlderThanAWeek()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero));
        var old = Write("old_jpg.gz", daysAgo: 8);
        var recent = Write("recent_jpg.gz", daysAgo: 6);
        var notCompressed = Write("notes.txt", daysAgo: 30);
        using var host = await StartAsync(time);

        await host.Services.GetRequiredService<IRecurringJobs>().TriggerAsync(NightlyCleanup.Name);
        await host.Services.GetRequiredService<AsyncQueue.Monitoring.IJobQueueMonitor>().WaitForIdleAsync().WaitAsync(TimeSpan.FromMinutes(2));

        Assert.False(File.Exists(old));
        Assert.True(File.Exists(recent));
        Assert.True(File.Exists(notCompressed));

        string Write(string name, int daysAgo)
        {
            var path = Path.Combine(_root.Path, name);
            File.WriteAllText(path, name);
            File.SetLastWriteTimeUtc(path, time.GetUtcNow().UtcDateTime.AddDays(-daysAgo));
            return path;
        }
    }

    [Fact]
    public async Task RunAsync_SampleFolder_PrintsTheCleanupsNextRunInBerlinTime()
    {
        using var output = new StringWriter();
        var original = SampleFolder.Create(_root.Path);

        await FolderProcessor.RunAsync(original, Path.Combine(_root.Path, "processed"), output).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.Matches(CleanupLine(), output.ToString());
    }

    [GeneratedRegex(@"Nightly cleanup: \.gz files older than 7 days are deleted at 03:00 Europe/Berlin; next run \d{4}-\d\d-\d\d 03:00 \+0[12]:00\.")]
    private static partial Regex CleanupLine();

    private async Task<IHost> StartAsync(TimeProvider time)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(time);
        builder.Services.AddJobQueue().AddNightlyCleanup(_root.Path);
        var host = builder.Build();
        await host.StartAsync();
        return host;
    }
}
