using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Sqlite.TestWorker;

/// <summary>Builds and runs a host on the SQLite store, the way an application would.</summary>
internal static class ChildHost
{
    public static IHost Build(string database, Action<IJobQueueBuilder> handlers, Action<IServiceCollection>? services = null, bool shortLeases = true)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();

        // Standard output is for the lines the test reads; logs go to standard error.
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        var queue = builder.Services.AddJobQueue().UseSqlite($"Data Source={database}", options =>
        {
            if (shortLeases)
            {
                options.LeaseDuration = TimeSpan.FromSeconds(2);
                options.HeartbeatInterval = TimeSpan.FromMilliseconds(500);
                options.SweepInterval = TimeSpan.FromMilliseconds(200);
                options.PollInterval = TimeSpan.FromMilliseconds(100);
            }
        });
        handlers(queue);
        return builder.Build();
    }

    /// <summary>Runs until standard input closes, then stops gracefully.</summary>
    public static async Task RunUntilInputClosesAsync(IHost host)
    {
        await host.StartAsync();
        Marker("ready");
        await Task.Run(() =>
        {
            while (Console.In.ReadLine() is not null)
            {
            }
        });
        await host.StopAsync();
        host.Dispose();
    }

    /// <summary>Writes a line for the test, at once.</summary>
    public static void Marker(string line)
    {
        Console.Out.WriteLine("@@" + line);
        Console.Out.Flush();
    }
}
