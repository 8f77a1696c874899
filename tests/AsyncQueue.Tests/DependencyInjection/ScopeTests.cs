using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Tests.DependencyInjection;

public sealed class ScopeTests
{
    public sealed record Work(int Number);

    /// <summary>Stands in for a DbContext: scoped, disposable, and records what happened to it.</summary>
    public sealed class UnitOfWork(Ledger ledger) : IAsyncDisposable
    {
        public bool Disposed { get; private set; }

        public ValueTask DisposeAsync()
        {
            Disposed = true;
            ledger.Disposed.Signal();
            return ValueTask.CompletedTask;
        }
    }

    public sealed class Ledger(int jobs)
    {
        public ConcurrentBag<UnitOfWork> Used { get; } = [];

        public Countdown Disposed { get; } = new(jobs);
    }

    public sealed class WorkHandler(UnitOfWork unitOfWork, Ledger ledger) : IJobHandler<Work>
    {
        public async Task HandleAsync(Work job, JobContext context, CancellationToken cancellationToken)
        {
            Assert.False(unitOfWork.Disposed);
            ledger.Used.Add(unitOfWork);
            await Task.Yield();
        }
    }

    [Fact]
    public async Task Handler_ScopedDependency_IsNewPerJobAndDisposedAfterIt()
    {
        const int Jobs = 200;
        var ledger = new Ledger(Jobs);
        await using var host = await TestHost.StartAsync((services, queue) =>
        {
            services.AddSingleton(ledger);
            services.AddScoped<UnitOfWork>();
            queue.AddHandler<Work, WorkHandler>(q => q.MaxConcurrency = 4);
        });

        await host.Queue.EnqueueBatchAsync(Enumerable.Range(0, Jobs).Select(i => new Work(i)));
        await ledger.Disposed.WaitAsync();

        Assert.Equal(Jobs, ledger.Used.Distinct().Count());
        Assert.All(ledger.Used, unit => Assert.True(unit.Disposed));
    }
}
