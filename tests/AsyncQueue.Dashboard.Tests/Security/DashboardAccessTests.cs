using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace AsyncQueue.Dashboard.Tests.Security;

/// <summary>Who may open the dashboard: loopback only without an authorization policy, the policy's users with one.</summary>
public sealed class DashboardAccessTests
{
    private static readonly IPAddress Remote = IPAddress.Parse("203.0.113.7");

    public static TheoryData<string, string> EveryKindOfRequest => new()
    {
        { "GET", "/jobs" },
        { "GET", "/jobs/api/queues" },
        { "GET", "/jobs/assets/dashboard.js" },
        { "GET", "/jobs/dead-letters/sign-up-dead-letter" },
        { "GET", "/jobs/dead-letters/sign-up-dead-letter?page=abc" },
        { "POST", "/jobs/queues/sign-up/pause" },
    };

    [Theory]
    [MemberData(nameof(EveryKindOfRequest))]
    public async Task Request_FromAnotherMachineWithNoPolicy_IsRefusedWith403AndLogged(string method, string path)
    {
        await using var app = await InMemoryDashboardApp.StartAsync();

        var (status, headers, body) = await app.SendAsync(method, path, Remote);

        Assert.Equal(403, status);
        Assert.Contains("answers only requests from this machine", body, StringComparison.Ordinal);
        Assert.Equal("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'", headers.ContentSecurityPolicy.ToString());
        var refused = Assert.Single(app.Logs.GetSnapshot(), r => r.Id.Id == 3);
        Assert.Equal(LogLevel.Warning, refused.Level);
        Assert.Contains("203.0.113.7", refused.Message, StringComparison.Ordinal);
        Assert.False((await app.Services.GetRequiredService<Monitoring.IJobQueueMonitor>().GetStatusAsync("sign-up")).Paused);
    }

    [Fact]
    public async Task Request_WithNoRemoteAddress_IsRefused()
    {
        await using var app = await InMemoryDashboardApp.StartAsync();

        var (status, _, _) = await app.SendAsync("GET", "/jobs", remote: null);

        Assert.Equal(403, status);
    }

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("::1")]
    [InlineData("::ffff:127.0.0.1")]
    public async Task Request_FromLoopbackWithNoPolicy_IsServedAndThePageSaysLoopbackOnly(string address)
    {
        await using var app = await InMemoryDashboardApp.StartAsync();

        var (status, headers, body) = await app.SendAsync("GET", "/jobs", IPAddress.Parse(address));

        Assert.Equal(200, status);
        Assert.StartsWith("text/html", headers.ContentType.ToString(), StringComparison.Ordinal);
        Assert.Contains("id=\"loopback-only\"", body, StringComparison.Ordinal);
        Assert.Contains("<tr data-queue=\"sign-up\">", body, StringComparison.Ordinal);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 1 && r.Level == LogLevel.Warning && r.Message.Contains("'/jobs' has no authorization policy", StringComparison.Ordinal));
    }

    public static TheoryData<string> WaysToRequireThePolicy => ["RequireAuthorization", "Options"];

    [Theory]
    [MemberData(nameof(WaysToRequireThePolicy))]
    public async Task Request_FromAnotherMachineWithAPolicy_IsServedToItsUsersOnly(string how)
    {
        await using var app = await InMemoryDashboardApp.StartAsync(map: a =>
        {
            if (how == "Options")
            {
                a.MapJobQueueDashboard("/jobs", o => o.AuthorizationPolicy = InMemoryDashboardApp.Policy);
            }
            else
            {
                a.MapJobQueueDashboard("/jobs").RequireAuthorization(InMemoryDashboardApp.Policy);
            }
        });

        var anonymous = await app.SendAsync("GET", "/jobs", Remote);
        var signedIn = await app.SendAsync("GET", "/jobs", Remote, user: "ada");

        Assert.Equal(401, anonymous.Status);
        Assert.Equal(200, signedIn.Status);
        Assert.DoesNotContain("loopback-only", signedIn.Body, StringComparison.Ordinal);
        Assert.Contains(app.Logs.GetSnapshot(), r => r.Id.Id == 2 && r.Message.Contains("'/jobs' requires its authorization policy", StringComparison.Ordinal));
        Assert.DoesNotContain(app.Logs.GetSnapshot(), r => r.Id.Id is 1 or 3);
    }

    [Fact]
    public async Task Map_WithoutAntiforgeryServices_ThrowsNamingTheFix()
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddJobQueue().AddHandler<SignUp, SignUpHandler>();
        await using var app = builder.Build();

        var error = Assert.Throws<InvalidOperationException>(() => app.MapJobQueueDashboard("/jobs"));

        Assert.Contains("AddAntiforgery()", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(501)]
    public void Map_PageSizeOutOfRange_ThrowsNamingTheProperty(int pageSize)
    {
        var builder = WebApplication.CreateBuilder();
        builder.Services.AddAntiforgery();
        builder.Services.AddJobQueue().AddHandler<SignUp, SignUpHandler>();
        var app = builder.Build();

        var error = Assert.Throws<ArgumentOutOfRangeException>(() => app.MapJobQueueDashboard("/jobs", o => o.PageSize = pageSize));

        Assert.Equal("PageSize", error.ParamName);
    }
}
