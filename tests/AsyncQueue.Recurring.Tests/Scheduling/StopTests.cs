using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using NSubstitute;

namespace AsyncQueue.Recurring.Tests.Scheduling;

// NSubstitute specifies a ValueTask-returning member by calling it: that call is a specification, never awaited.
#pragma warning disable CA2012

/// <summary>A host stopping while a tick's enqueue is in flight (a wait for room, a slow store) stops cleanly.</summary>
public sealed class StopTests
{
    [Fact]
    public async Task StopAsync_EnqueueInFlight_CancelsItAndStopsWithoutError()
    {
        var start = new DateTimeOffset(2026, 6, 1, 9, 30, 0, TimeSpan.Zero);
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var cancelled = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var queue = Substitute.For<IJobQueue>();
        queue.EnqueueAsync(Arg.Any<TickJob>(), Arg.Any<EnqueueOptions?>(), Arg.Any<CancellationToken>())
            .Returns(call => new ValueTask<EnqueueResult>(WaitUntilCancelledAsync(call.ArgAt<CancellationToken>(2))));
        var time = new FakeTimeProvider(start);
        var host = await RecurringHost.StartAsync(time, builder =>
        {
            builder.Services.AddSingleton(queue);
            builder.AddRecurringJob("hourly", "0 * * * *", () => new TickJob());
        });

        time.Advance(TimeSpan.FromMinutes(30));
        await entered.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await host.DisposeAsync();

        Assert.True(cancelled.Task.IsCompleted);

        async Task<EnqueueResult> WaitUntilCancelledAsync(CancellationToken cancellationToken)
        {
            entered.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            finally
            {
                cancelled.TrySetResult();
            }

            return default;
        }
    }
}
