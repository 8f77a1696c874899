using Microsoft.Extensions.Logging;

namespace AsyncQueue.Dashboard;

/// <summary>The dashboard's log messages (category <c>AsyncQueue.Dashboard</c>), with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Warning, "The job queue dashboard at '{Path}' has no authorization policy: it serves only loopback requests and refuses every other with 403. Open it to others with MapJobQueueDashboard(...).RequireAuthorization(\"policy\") or JobQueueDashboardOptions.AuthorizationPolicy.")]
    public static partial void LoopbackOnly(ILogger logger, string path);

    [LoggerMessage(2, LogLevel.Information, "The job queue dashboard at '{Path}' requires its authorization policy.")]
    public static partial void PolicyRequired(ILogger logger, string path);

    [LoggerMessage(3, LogLevel.Warning, "The job queue dashboard at '{Path}' refused a request from {RemoteAddress}: with no authorization policy it serves only loopback requests.")]
    public static partial void RemoteRequestRefused(ILogger logger, string path, string remoteAddress);

    [LoggerMessage(4, LogLevel.Warning, "The job queue dashboard at '{Path}' refused a {Method} {Action} without a valid antiforgery token.")]
    public static partial void AntiforgeryRefused(ILogger logger, string path, string method, string action);

    [LoggerMessage(5, LogLevel.Information, "Job queue dashboard: {User} from {RemoteAddress} did {Action} {Target}.")]
    public static partial void ActionDone(ILogger logger, string user, string remoteAddress, string action, string target);
}
