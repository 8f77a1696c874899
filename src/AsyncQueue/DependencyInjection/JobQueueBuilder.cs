using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.DependencyInjection;

internal sealed class JobQueueBuilder(IServiceCollection services) : IJobQueueBuilder
{
    public IServiceCollection Services { get; } = services;
}
