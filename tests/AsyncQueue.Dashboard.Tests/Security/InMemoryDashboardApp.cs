using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using AsyncQueue.Dashboard;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Dashboard.Tests.Security;

/// <summary>
/// An app with a job queue and the dashboard at <c>/jobs</c>, on ASP.NET Core's in-memory test server, so each request
/// can come from the remote address the test chooses. Its log is kept (<see cref="Logs"/>).
/// </summary>
internal sealed class InMemoryDashboardApp : IAsyncDisposable
{
    public const string Policy = "queue-admins";

    /// <summary>The header the test authentication handler reads: a request that carries it is signed in as that user.</summary>
    public const string UserHeader = "X-Test-User";

    private readonly WebApplication _app;

    private InMemoryDashboardApp(WebApplication app) => _app = app;

    public FakeLogCollector Logs => _app.Services.GetFakeLogCollector();

    public IServiceProvider Services => _app.Services;

    /// <summary>
    /// Starts the app. <paramref name="map"/> maps the dashboard (by default with no policy); the app always has
    /// authentication (a header names the user) and the policy <see cref="Policy"/>, which needs a signed-in user.
    /// </summary>
    public static async Task<InMemoryDashboardApp> StartAsync(Action<WebApplication>? map = null, Action<IJobQueueBuilder>? queue = null)
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.Services.AddAntiforgery();
        builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser());
        var jobs = builder.Services.AddJobQueue().AddHandler<SignUp, SignUpHandler>(q => q.Retry = Retry.RetryPolicy.None);
        queue?.Invoke(jobs);

        var app = builder.Build();
        (map ?? (a => a.MapJobQueueDashboard("/jobs")))(app);
        await app.StartAsync();
        return new InMemoryDashboardApp(app);
    }

    /// <summary>Sends a request from <paramref name="remote"/> and returns the response's status, headers and body.</summary>
    public async Task<(int Status, IHeaderDictionary Headers, string Body)> SendAsync(string method, string path, IPAddress? remote, string? user = null)
    {
        var context = await _app.GetTestServer().SendAsync(c =>
        {
            c.Request.Method = method;
            var query = path.IndexOf('?', StringComparison.Ordinal);
            c.Request.Path = query < 0 ? path : path[..query];
            c.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(path[query..]);
            c.Connection.RemoteIpAddress = remote;
            if (user is not null)
            {
                c.Request.Headers[UserHeader] = user;
            }
        });
        using var reader = new StreamReader(context.Response.Body);
        return (context.Response.StatusCode, context.Response.Headers, await reader.ReadToEndAsync());
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    /// <summary>Signs in the user named by the <see cref="UserHeader"/> header; a request without it is anonymous.</summary>
    private sealed class HeaderAuthentication(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string Name = "TestHeader";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync() =>
            Task.FromResult(Request.Headers.TryGetValue(UserHeader, out var user)
                ? AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, user.ToString())], Name)), Name))
                : AuthenticateResult.NoResult());
    }
}

/// <summary>A job with a field the application marks sensitive, and one that carries whatever the user typed.</summary>
[JobKind("sign-up")]
public sealed record SignUp([property: Sensitive] string Email, string DisplayName);

/// <summary>Always fails for good, with a message built from the job's data, so the job is dead-lettered at once.</summary>
public sealed class SignUpHandler : IJobHandler<SignUp>
{
    public Task HandleAsync(SignUp job, JobContext context, CancellationToken cancellationToken) =>
        throw new PermanentJobException($"Cannot greet {job.DisplayName}");
}
