using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Dashboard.Security;

/// <summary>
/// Runs before every dashboard endpoint: sets the security headers, then refuses a request from another machine when
/// the dashboard has no authorization policy.
/// </summary>
internal sealed class DashboardFilter(ILogger logger, string pattern) : IEndpointFilter
{
    /// <summary>
    /// Scripts, styles, images and fetches only from the dashboard's own origin; no inline script or style, no plugin,
    /// no framing, forms posted only back to it.
    /// </summary>
    internal const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var headers = http.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = "DENY";
        headers["Referrer-Policy"] = "no-referrer";

        var metadata = http.GetEndpoint()?.Metadata ?? new EndpointMetadataCollection();
        if (!DashboardAccess.HasPolicy(metadata) && !DashboardAccess.IsLoopback(http.Connection.RemoteIpAddress))
        {
            Log.RemoteRequestRefused(logger, pattern, http.Connection.RemoteIpAddress?.ToString() ?? "(none)");
            return Results.Text(
                "403 Forbidden: this job queue dashboard has no authorization policy, so it answers only requests from this machine (loopback). "
                + "Give it a policy to open it to others: app.MapJobQueueDashboard(\"/jobs\").RequireAuthorization(\"your-policy\").",
                "text/plain; charset=utf-8",
                statusCode: StatusCodes.Status403Forbidden);
        }

        return await next(context).ConfigureAwait(false);
    }
}
