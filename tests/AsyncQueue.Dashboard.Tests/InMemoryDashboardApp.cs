using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.RegularExpressions;
using AsyncQueue.Monitoring;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Options;

namespace AsyncQueue.Dashboard.Tests;

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
    /// <paramref name="jobs"/> adds to the job queue: a store other than the in-memory one, recurring jobs.
    /// </summary>
    public static async Task<InMemoryDashboardApp> StartAsync(Action<WebApplication>? map = null, TimeProvider? time = null, Action<IJobQueueBuilder>? jobs = null)
    {
        var builder = WebApplication.CreateBuilder();
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        builder.WebHost.UseTestServer();
        builder.Logging.ClearProviders().AddFakeLogging();
        builder.Services.AddAntiforgery();
        builder.Services.AddAuthentication(HeaderAuthentication.Name).AddScheme<AuthenticationSchemeOptions, HeaderAuthentication>(HeaderAuthentication.Name, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(Policy, policy => policy.RequireAuthenticatedUser());
        var queue = builder.Services.AddJobQueue()
            .AddHandler<SignUp, SignUpHandler>(q =>
            {
                q.Retry = Retry.RetryPolicy.None;

                // The tests look finished jobs up; the in-memory store keeps them only when asked.
                q.FinishedJobCapacity = 1_000;
            })
            .AddHandler<Ping, PingHandler>(q => q.FinishedJobCapacity = 1_000);
        jobs?.Invoke(queue);

        var app = builder.Build();
        (map ?? (a => a.MapJobQueueDashboard("/jobs")))(app);
        await app.StartAsync();
        return new InMemoryDashboardApp(app);
    }

    /// <summary>
    /// Does what a click on a dashboard button does, from loopback: opens <paramref name="page"/>, takes the antiforgery
    /// cookie and the token of the form that posts to <paramref name="action"/>, and posts that form.
    /// </summary>
    public async Task<(int Status, IHeaderDictionary Headers, string Body)> ClickAsync(string page, string action)
    {
        var (status, headers, body) = await SendAsync("GET", page, IPAddress.Loopback);
        Assert.Equal(200, status);
        var form = Regex.Match(body, $"""<form class="action" method="post" action="{Regex.Escape(action)}"[^>]*><input type="hidden" name="([^"]+)" value="([^"]+)">""");
        Assert.True(form.Success, $"The page {page} has no button that posts to {action}.");
        var cookie = string.Join("; ", headers.SetCookie.Select(c => c!.Split(';')[0]));
        var content = Encoding.UTF8.GetBytes($"{form.Groups[1].Value}={Uri.EscapeDataString(WebUtility.HtmlDecode(form.Groups[2].Value))}");
        return await SendAsync("POST", action, IPAddress.Loopback, configure: c =>
        {
            c.Request.Headers.Cookie = cookie;
            c.Request.ContentType = "application/x-www-form-urlencoded";
            c.Request.ContentLength = content.Length;
            c.Request.Body = new MemoryStream(content);
        });
    }

    /// <summary>Sends a request from <paramref name="remote"/> and returns the response's status, headers and body.</summary>
    public async Task<(int Status, IHeaderDictionary Headers, string Body)> SendAsync(string method, string path, IPAddress? remote, string? user = null, Action<HttpContext>? configure = null)
    {
        var context = await _app.GetTestServer().SendAsync(c =>
        {
            configure?.Invoke(c);
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

    /// <summary>Enqueues a job that fails for good, and waits until it is dead-lettered.</summary>
    public async Task<JobId> DeadLetterAsync(SignUp job)
    {
        var id = (await Services.GetRequiredService<IJobQueue>().EnqueueAsync(job)).JobId;
        var monitor = Services.GetRequiredService<IJobQueueMonitor>();
        using var hangGuard = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        while ((await monitor.GetJobAsync(id, hangGuard.Token))?.State != JobState.DeadLettered)
        {
            await Task.Delay(10, hangGuard.Token);
        }

        return id;
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
