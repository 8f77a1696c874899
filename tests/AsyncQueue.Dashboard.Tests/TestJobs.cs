namespace AsyncQueue.Dashboard.Tests;

/// <summary>A job that always succeeds.</summary>
[JobKind("ping")]
public sealed record Ping;

/// <summary>Succeeds at once.</summary>
public sealed class PingHandler : IJobHandler<Ping>
{
    public Task HandleAsync(Ping job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Always fails for good, with a message built from the job's data, so the job is dead-lettered at once.</summary>
public sealed class SignUpHandler : IJobHandler<SignUp>
{
    public Task HandleAsync(SignUp job, JobContext context, CancellationToken cancellationToken) =>
        throw new PermanentJobException($"Cannot greet {job.DisplayName}");
}
