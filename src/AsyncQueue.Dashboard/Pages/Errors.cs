using AsyncQueue.Dashboard.Html;

namespace AsyncQueue.Dashboard.Pages;

/// <summary>A job's failed attempts, newest first, each with its exception and (folded) stack trace.</summary>
internal static class Errors
{
    public static HtmlFragment Render(IReadOnlyList<JobError> errors)
    {
        var html = new HtmlBuilder();
        html.Add($"""<h2>Errors ({errors.Count})</h2>""");
        if (errors.Count == 0)
        {
            html.Add($"""<p class="muted">No attempt has failed.</p>""");
            return html.ToFragment();
        }

        html.Add($"""<ul class="errors">""");
        for (var i = errors.Count - 1; i >= 0; i--)
        {
            var error = errors[i];
            html.Add($"""<li><p><strong>Attempt {error.Attempt}</strong>, {Layout.Time(error.At)}: <code>{error.ExceptionType}</code></p><p class="message">{error.Message}</p>""");
            if (!string.IsNullOrEmpty(error.StackTrace))
            {
                html.Add($"""<details><summary>Stack trace</summary><pre>{error.StackTrace}</pre></details>""");
            }

            html.Add($"""</li>""");
        }

        html.Add($"""</ul>""");
        return html.ToFragment();
    }
}
