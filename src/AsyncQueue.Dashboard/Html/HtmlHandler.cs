using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Encodings.Web;

namespace AsyncQueue.Dashboard.Html;

/// <summary>
/// The interpolated-string handler of <see cref="HtmlBuilder.Add(ref HtmlHandler)"/>: the compiler passes the
/// string's literal parts (markup written in this assembly's source) to <see cref="AppendLiteral"/> and every hole to
/// <see cref="AppendFormatted{T}(T)"/>, which HTML-encodes it, in text and in quoted attributes alike.
/// </summary>
[InterpolatedStringHandler]
internal readonly ref struct HtmlHandler
{
    private readonly StringBuilder _markup;

    public HtmlHandler(int literalLength, int formattedCount, HtmlBuilder builder)
    {
        _ = literalLength;
        _ = formattedCount;
        _markup = builder.Markup;
    }

    public void AppendLiteral(string markup) => _markup.Append(markup);

    public void AppendFormatted(HtmlFragment fragment) => _markup.Append(fragment.Markup);

    public void AppendFormatted<T>(T value) => AppendFormatted(value, format: null);

    public void AppendFormatted<T>(T value, string? format)
    {
        var text = value is IFormattable formattable ? formattable.ToString(format, CultureInfo.InvariantCulture) : value?.ToString();
        if (!string.IsNullOrEmpty(text))
        {
            _markup.Append(HtmlEncoder.Default.Encode(text));
        }
    }
}
