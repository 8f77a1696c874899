using AsyncQueue.Benchmarks.Contenders;

namespace AsyncQueue.Benchmarks.Scenarios;

/// <summary>
/// Jobs per benchmark invocation (BenchmarkDotNet's OperationsPerInvoke): enough for an invocation of 0.1 s to a few
/// seconds, so that each is stable. The slow peers get fewer jobs, or one run would take minutes.
/// </summary>
public static class JobCounts
{
    /// <summary>The engine and the raw baselines.</summary>
    public const int InProcess = 1_000_000;

    public const int Coravel = 200_000;

    public const int Hangfire = 5_000;

    public const int MassTransit = 10_000;

    public const int Wolverine = 100_000;

    /// <summary>The count for a contender; divided by <paramref name="divisor"/> in the quick mode.</summary>
    public static int For(ContenderKind kind, int divisor = 1) => kind switch
    {
        ContenderKind.Coravel => Coravel,
        ContenderKind.Hangfire => Hangfire,
        ContenderKind.MassTransit => MassTransit,
        ContenderKind.Wolverine => Wolverine,
        _ => InProcess,
    } / divisor;
}
