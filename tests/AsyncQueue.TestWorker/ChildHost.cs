using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.TestWorker;

/// <summary>Builds and runs a host on the chosen store, the way an application would.</summary>
internal static class ChildHost
{
    public static IHost Build(StoreChoice store, Action<IJobQueueBuilder> handlers, Action<IServiceCollection>? services = null, bool shortLeases = true, string? schema = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();

        // Standard output is for the lines the test reads; logs go to standard error.
        builder.Logging.AddConsole(options => options.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        services?.Invoke(builder.Services);
        var queue = builder.Services.AddJobQueue();
        store.Use(queue, shortLeases, schema);
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
