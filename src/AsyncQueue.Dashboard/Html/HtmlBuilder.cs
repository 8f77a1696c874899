using System.Runtime.CompilerServices;
using System.Text;

namespace AsyncQueue.Dashboard.Html;

/// <summary>
/// Builds a page's HTML from interpolated strings whose literal parts are markup and whose holes are always
/// HTML-encoded (<see cref="HtmlHandler"/>): job data can only reach the page encoded, because there is no method
/// that takes a runtime string as markup. Markup built by another builder goes in as an <see cref="HtmlFragment"/>.
/// </summary>
internal sealed class HtmlBuilder
{
    internal StringBuilder Markup { get; } = new(4096);

    /// <summary>Appends the literal parts as markup and every hole encoded.</summary>
    public HtmlBuilder Add([InterpolatedStringHandlerArgument("")] ref HtmlHandler html) => this;

    /// <summary>Appends markup made by another builder (already safe: it was made the same way).</summary>
    public HtmlBuilder Add(HtmlFragment fragment)
    {
        Markup.Append(fragment.Markup);
        return this;
    }

    /// <summary>The markup so far, to place inside another page.</summary>
    public HtmlFragment ToFragment() => new(Markup.ToString());

    public override string ToString() => Markup.ToString();
}
