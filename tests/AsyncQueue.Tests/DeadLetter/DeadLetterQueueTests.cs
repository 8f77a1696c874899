using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Tests.DeadLetter;

/// <summary>The application's dead-letter queue: names are checked, so a typo fails instead of showing an empty queue.</summary>
public sealed class DeadLetterQueueTests
{
    [Theory]
    [InlineData("failed-email")]
    [InlineData("Failed-Emails")]
    public async Task ListCountRequeueAllPurge_UnknownDeadLetterQueue_ThrowNamingTheKnownOnes(string typo)
    {
        await using var host = await TestHost.StartAsync((_, queue) =>
        {
            queue.AddHandler<Mail, MailHandler>(q => q.DeadLetterQueue = "failed-emails");
            queue.AddHandler<Upload, UploadHandler>();
        });
        var deadLetters = host.Services.GetRequiredService<IDeadLetterQueue>();

        var list = await Assert.ThrowsAsync<ArgumentException>(() => deadLetters.ListAsync(typo).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => deadLetters.CountAsync(typo).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => deadLetters.RequeueAllAsync(typo).AsTask());
        await Assert.ThrowsAsync<ArgumentException>(() => deadLetters.PurgeAsync(typo).AsTask());

        Assert.Contains($"'{typo}'", list.Message, StringComparison.Ordinal);
        Assert.Contains("'failed-emails'", list.Message, StringComparison.Ordinal);
        Assert.Contains("'Upload-dead-letter'", list.Message, StringComparison.Ordinal);
        Assert.Empty(await deadLetters.ListAsync("failed-emails"));
        Assert.Equal(0, await deadLetters.CountAsync("Upload-dead-letter"));
    }

    public sealed record Mail(string To);

    public sealed record Upload(string Path);

    public sealed class MailHandler : IJobHandler<Mail>
    {
        public Task HandleAsync(Mail job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public sealed class UploadHandler : IJobHandler<Upload>
    {
        public Task HandleAsync(Upload job, JobContext context, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
