namespace AsyncQueue.Dashboard.Html;

/// <summary>Markup made by an <see cref="HtmlBuilder"/>: only it can create one, so a hole of this type is never raw job data.</summary>
internal readonly struct HtmlFragment
{
    internal HtmlFragment(string markup) => Markup = markup;

    internal string Markup { get; }
}
