using System.Globalization;
using AsyncQueue.Dashboard.Html;
using AsyncQueue.Dashboard.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>The frame every page shares: head with the embedded stylesheet and script, navigation, job lookup, the loopback notice.</summary>
internal static class Layout
{
    /// <summary>An HTML page response with <paramref name="body"/> in the frame.</summary>
    public static IResult Page(HttpContext context, MappedDashboard dashboard, string title, HtmlFragment body, int statusCode = StatusCodes.Status200OK)
    {
        var basePath = dashboard.BasePath(context);
        var html = new HtmlBuilder();
        html.Add($"""
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="referrer" content="no-referrer">
            <title>{title} · AsyncQueue</title>
            <link rel="icon" href="{basePath}/assets/favicon.svg" type="image/svg+xml">
            <link rel="stylesheet" href="{basePath}/assets/dashboard.css">
            <script src="{basePath}/assets/dashboard.js" defer></script>
            </head>
            <body data-base="{basePath}">
            <header>
            <a class="brand" href="{basePath}/">AsyncQueue</a>
            <nav><a href="{basePath}/">Queues</a>
            """);
        foreach (var deadLetterQueue in dashboard.Monitor.Queues.Select(q => q.DeadLetterQueue).Distinct(StringComparer.Ordinal))
        {
            html.Add($"""<a href="{basePath}/dead-letters/{Uri.EscapeDataString(deadLetterQueue)}">{deadLetterQueue}</a>""");
        }

        if (dashboard.Recurring is not null)
        {
            html.Add($"""<a href="{basePath}/recurring">Recurring</a>""");
        }

        html.Add($"""
            </nav>
            <form class="lookup" method="get" action="{basePath}/job"><label>Job id <input name="id" required size="34" autocomplete="off" spellcheck="false"></label> <button type="submit">Look up</button></form>
            </header>
            """);
        var metadata = context.GetEndpoint()?.Metadata;
        if (metadata is null || !DashboardAccess.HasPolicy(metadata))
        {
            html.Add($"""<p class="notice warning" id="loopback-only">No authorization policy: this dashboard answers only requests from this machine (loopback). Give it a policy with <code>MapJobQueueDashboard(…).RequireAuthorization("policy")</code> to open it to others.</p>""");
        }

        if (Notices.Describe(context.Request.Query["done"]) is { } notice)
        {
            html.Add($"""<p class="notice done" role="status">{notice}</p>""");
        }

        html.Add($"""
            <main>
            <h1>{title}</h1>
            {body}
            </main>
            </body>
            </html>
            """);
        return Results.Content(html.ToString(), "text/html; charset=utf-8", statusCode: statusCode);
    }

    /// <summary>A form that posts to a dashboard action with the request's antiforgery token, as one button.</summary>
    public static HtmlFragment ActionForm(HttpContext context, string action, string label, string? confirm = null, string cssClass = "")
    {
        var tokens = context.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(context);
        var html = new HtmlBuilder();
        html.Add($"""<form class="action" method="post" action="{action}" data-confirm="{confirm}"><input type="hidden" name="{tokens.FormFieldName}" value="{tokens.RequestToken}"><button type="submit" class="{cssClass}">{label}</button></form>""");
        return html.ToFragment();
    }

    /// <summary>A time in UTC, to the second.</summary>
    public static string Time(DateTimeOffset? time) =>
        time is { } t ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture) : "—";

    /// <summary>A count with thousands separators.</summary>
    public static string Count(long count) => count.ToString("N0", CultureInfo.InvariantCulture);
}
