using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue;

/// <summary>Returned by <c>services.AddJobQueue()</c>; handler registration and store packages extend it.</summary>
public interface IJobQueueBuilder
{
    /// <summary>Gets the service collection the job queue is registered in.</summary>
    IServiceCollection Services { get; }
}
