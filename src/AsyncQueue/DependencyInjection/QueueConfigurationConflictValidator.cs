using Microsoft.Extensions.Options;

namespace AsyncQueue.DependencyInjection;

/// <summary>
/// Fails the start when two calls configure one queue's <see cref="QueueOptions.MaxConcurrency"/> differently.
/// </summary>
/// <remarks>
/// The options system applies every callback of a named queue in order, so the last one would silently win: two job
/// types registered on one queue with <c>MaxConcurrency = 3</c> and <c>= 5</c> would run on 5 workers, and the author
/// of the first would never know. A queue has one set of workers, so a disagreement is a mistake to name. Each
/// callback is run again here on a probe whose value no valid configuration sets, to see which callbacks set it;
/// a callback that leaves it alone takes no side.
/// </remarks>
internal sealed class QueueConfigurationConflictValidator(IEnumerable<QueueConfiguration> configurations) : IValidateOptions<QueueOptions>
{
    private const int Unset = int.MinValue;

    public ValidateOptionsResult Validate(string? name, QueueOptions options)
    {
        var settings = new List<(string Source, int Value)>();
        foreach (var configuration in configurations)
        {
            if (!string.Equals(configuration.Queue, name, StringComparison.Ordinal))
            {
                continue;
            }

            var probe = new QueueOptions { MaxConcurrency = Unset };
            configuration.Configure(probe);
            if (probe.MaxConcurrency != Unset)
            {
                settings.Add((configuration.Source, probe.MaxConcurrency));
            }
        }

        if (settings.Select(s => s.Value).Distinct().Count() <= 1)
        {
            return ValidateOptionsResult.Success;
        }

        var calls = string.Join(", ", settings.Select(s => $"{s.Source} sets {s.Value}"));
        return ValidateOptionsResult.Fail(
            $"Queue '{name}': QueueOptions.MaxConcurrency is configured differently by several calls ({calls}); the last would silently win. " +
            $"A queue has one set of workers: set MaxConcurrency once, with ConfigureQueue(\"{name}\", q => q.MaxConcurrency = ...), or give the job types queues of their own.");
    }
}
