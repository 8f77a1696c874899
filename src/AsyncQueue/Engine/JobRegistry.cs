using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using AsyncQueue.Storage;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Engine;

/// <summary>Every registered job type and configured queue, frozen when the queue is built.</summary>
internal sealed class JobRegistry : IJobKindRegistry
{
    private readonly FrozenDictionary<Type, JobRegistration> _byType;
    private readonly FrozenDictionary<string, JobRegistration> _byKind;
    private readonly FrozenSet<string> _queues;

    public JobRegistry(IEnumerable<JobHandlerDescriptor> descriptors, IEnumerable<QueueDeclaration> queues, IOptionsMonitor<JobOptions> jobOptions)
    {
        var byType = new Dictionary<Type, JobHandlerDescriptor>();
        var byKind = new Dictionary<string, JobHandlerDescriptor>(StringComparer.Ordinal);
        foreach (var descriptor in descriptors)
        {
            if (byType.TryGetValue(descriptor.JobType, out var existing))
            {
                if (existing.HandlerType != descriptor.HandlerType || existing.Queue != descriptor.Queue)
                {
                    throw new InvalidOperationException(
                        $"Job type '{descriptor.JobType.FullName}' is registered twice, with handler '{existing.HandlerType.Name}' on queue '{existing.Queue}' and with handler '{descriptor.HandlerType.Name}' on queue '{descriptor.Queue}'. A job type has one handler.");
                }

                continue;
            }

            if (byKind.TryGetValue(descriptor.Kind, out var clash))
            {
                throw new InvalidOperationException(
                    $"Job types '{clash.JobType.FullName}' and '{descriptor.JobType.FullName}' share the kind '{descriptor.Kind}'. Give one a distinct [JobKind(\"...\")].");
            }

            byType.Add(descriptor.JobType, descriptor);
            byKind.Add(descriptor.Kind, descriptor);
        }

        // Reading the options validates them, so a bad job type setting fails here, naming the kind.
        var registrations = byType.Values.Select(d => d.CreateRegistration(jobOptions.Get(d.Kind))).ToList();
        _byType = registrations.ToFrozenDictionary(r => r.JobType);
        _byKind = registrations.ToFrozenDictionary(r => r.Kind, StringComparer.Ordinal);
        _queues = queues.Select(q => q.Name).Concat(registrations.Select(r => r.Queue)).ToFrozenSet(StringComparer.Ordinal);
        QueueNames = [.. _queues.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> QueueNames { get; }

    public JobRegistration GetByType(Type jobType) =>
        _byType.TryGetValue(jobType, out var registration) ? registration : throw new JobTypeNotRegisteredException(jobType);

    public bool TryGetJobType(string kind, [NotNullWhen(true)] out Type? jobType)
    {
        jobType = _byKind.TryGetValue(kind, out var registration) ? registration.JobType : null;
        return jobType is not null;
    }

    public bool TryGetByKind(string kind, out JobRegistration registration) => _byKind.TryGetValue(kind, out registration!);

    public string CheckQueue(string queue) => _queues.Contains(queue) ? queue : throw new QueueNotConfiguredException(queue);
}
