using AsyncQueue.Conformance;

namespace AsyncQueue.Tests.Storage;

public sealed class InMemoryJobStoreConformanceTests : JobStoreConformanceTests
{
    // The in-memory store is the default: nothing to configure.
    protected override void ConfigureStore(IJobQueueBuilder builder)
    {
    }
}
