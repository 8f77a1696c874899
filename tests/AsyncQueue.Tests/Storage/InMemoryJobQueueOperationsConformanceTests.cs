using AsyncQueue.Testing;

namespace AsyncQueue.Tests.Storage;

/// <summary>The operations suite over the in-memory store, the default: nothing to configure.</summary>
public sealed class InMemoryJobQueueOperationsConformanceTests : JobQueueOperationsConformanceTests
{
    protected override void ConfigureStore(IJobQueueBuilder builder)
    {
    }
}
