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
    private readonly Lock _tableGate = new();
    private static int s_typeCount;

    // Registrations by TypeNumber<TJob>, filled as job types are first enqueued; null where a number is another's.
    private JobRegistration?[] _byTypeNumber = [];

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
        for (var i = 0; i < registrations.Count; i++)
        {
            registrations[i].Registry = this;
            registrations[i].Index = i;
        }

        Registrations = registrations;
        _byType = registrations.ToFrozenDictionary(r => r.JobType);
        _byKind = registrations.ToFrozenDictionary(r => r.Kind, StringComparer.Ordinal);
        _queues = queues.Select(q => q.Name).Concat(registrations.Select(r => r.Queue)).ToFrozenSet(StringComparer.Ordinal);
        QueueNames = [.. _queues.Order(StringComparer.Ordinal)];
    }

    public IReadOnlyList<string> QueueNames { get; }

    /// <summary>Gets every registration, each at its <see cref="JobRegistration.Index"/>.</summary>
    public IReadOnlyList<JobRegistration> Registrations { get; }

    public JobRegistration GetByType(Type jobType) =>
        _byType.TryGetValue(jobType, out var registration) ? registration : throw new JobTypeNotRegisteredException(jobType);

    /// <summary>
    /// The registration of <typeparamref name="TJob"/>, for every enqueue: from a table indexed by the job type's
    /// number in this process, so an enqueue skips <c>typeof</c> and the dictionary's lookup by type (a virtual call
    /// and a type comparison per entry).
    /// </summary>
    public JobRegistration GetByType<TJob>()
    {
        var number = TypeNumber<TJob>.Value;
        var table = Volatile.Read(ref _byTypeNumber);
        if ((uint)number < (uint)table.Length && table[number] is { } registration)
        {
            return registration;
        }

        return Remember(number, GetByType(typeof(TJob)));
    }

    public bool TryGetJobType(string kind, [NotNullWhen(true)] out Type? jobType)
    {
        jobType = _byKind.TryGetValue(kind, out var registration) ? registration.JobType : null;
        return jobType is not null;
    }

    public bool TryGetByKind(string kind, out JobRegistration registration) => _byKind.TryGetValue(kind, out registration!);

    public string CheckQueue(string queue) => _queues.Contains(queue) ? queue : throw new QueueNotConfiguredException(queue);

    /// <summary>Adds a job type's registration to the table, copied on write: once per job type and registry.</summary>
    private JobRegistration Remember(int number, JobRegistration registration)
    {
        lock (_tableGate)
        {
            var next = new JobRegistration?[Math.Max(number + 1, _byTypeNumber.Length)];
            _byTypeNumber.CopyTo(next, 0);
            next[number] = registration;
            Volatile.Write(ref _byTypeNumber, next);
        }

        return registration;
    }

    /// <summary>Numbers the job types enqueued in this process, in order, from 0: a type's index in every registry's table.</summary>
    private static class TypeNumber<TJob>
    {
        public static readonly int Value = Interlocked.Increment(ref s_typeCount) - 1;
    }
}
