using System.Collections.Frozen;

namespace AsyncQueue.Engine;

/// <summary>Every registered job type and configured queue, frozen when the queue is built.</summary>
internal sealed class JobRegistry
{
    private readonly FrozenDictionary<Type, JobRegistration> _byType;
    private readonly FrozenDictionary<string, JobRegistration> _byKind;
    private readonly FrozenSet<string> _queues;

    public JobRegistry(IEnumerable<JobRegistration> registrations, IEnumerable<QueueDeclaration> queues)
    {
        var byType = new Dictionary<Type, JobRegistration>();
        var byKind = new Dictionary<string, JobRegistration>(StringComparer.Ordinal);
        foreach (var registration in registrations)
        {
            if (byType.TryGetValue(registration.JobType, out var existing))
            {
                if (existing.HandlerType != registration.HandlerType || existing.Queue != registration.Queue)
                {
                    throw new InvalidOperationException(
                        $"Job type '{registration.JobType.FullName}' is registered twice, with handler '{existing.HandlerType.Name}' on queue '{existing.Queue}' and with handler '{registration.HandlerType.Name}' on queue '{registration.Queue}'. A job type has one handler.");
                }

                continue;
            }

            if (byKind.TryGetValue(registration.Kind, out var clash))
            {
                throw new InvalidOperationException(
                    $"Job types '{clash.JobType.FullName}' and '{registration.JobType.FullName}' share the kind '{registration.Kind}'. Give one a distinct [JobKind(\"...\")].");
            }

            byType.Add(registration.JobType, registration);
            byKind.Add(registration.Kind, registration);
        }

        _byType = byType.ToFrozenDictionary();
        _byKind = byKind.ToFrozenDictionary(StringComparer.Ordinal);
        _queues = queues.Select(q => q.Name).Concat(byType.Values.Select(r => r.Queue)).ToFrozenSet(StringComparer.Ordinal);
        QueueNames = [.. _queues.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> QueueNames { get; }

    public JobRegistration GetByType(Type jobType) =>
        _byType.TryGetValue(jobType, out var registration) ? registration : throw new JobTypeNotRegisteredException(jobType);

    public bool TryGetByKind(string kind, out JobRegistration registration) => _byKind.TryGetValue(kind, out registration!);

    public string CheckQueue(string queue) => _queues.Contains(queue) ? queue : throw new QueueNotConfiguredException(queue);
}
