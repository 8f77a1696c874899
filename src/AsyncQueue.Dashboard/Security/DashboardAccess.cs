using System.Net;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;

namespace AsyncQueue.Dashboard.Security;

/// <summary>
/// Who may open the dashboard. With an authorization policy on its endpoints (<c>RequireAuthorization</c>, or
/// <see cref="JobQueueDashboardOptions.AuthorizationPolicy"/>), the authorization middleware has already let the
/// request through; with none, only a request from a loopback address is served (Hangfire's dashboard reachable from
/// anywhere by default is the field's best-known security story, GHSA-7rq6-7gv8-c37h).
/// </summary>
internal static class DashboardAccess
{
    /// <summary>Whether the endpoint carries an authorization requirement that anonymous access does not override.</summary>
    public static bool HasPolicy(EndpointMetadataCollection metadata) =>
        metadata.GetMetadata<IAllowAnonymous>() is null
        && (metadata.GetMetadata<IAuthorizeData>() is not null || metadata.GetMetadata<AuthorizationPolicy>() is not null
            || metadata.GetMetadata<IAuthorizationRequirementData>() is not null);

    /// <summary>
    /// Whether the request came from this machine. A request with no remote address (a Unix socket, an in-memory test
    /// server) is not known to be local, so it is refused. Behind a reverse proxy on the same machine every request
    /// looks local unless the app applies the forwarded headers (UseForwardedHeaders), as docs/dashboard.md says.
    /// </summary>
    public static bool IsLoopback(IPAddress? address) =>
        address is not null && IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
