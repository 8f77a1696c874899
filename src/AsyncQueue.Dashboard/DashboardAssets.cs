using System.Collections.Frozen;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace AsyncQueue.Dashboard;

/// <summary>
/// The stylesheet, the script and the icon, embedded in this assembly (see the csproj), served from memory with an ETag: no
/// files to deploy, nothing fetched from elsewhere.
/// </summary>
internal static class DashboardAssets
{
    private static readonly FrozenDictionary<string, (byte[] Content, string ContentType, EntityTagHeaderValue ETag)> Assets =
        new Dictionary<string, (byte[], string, EntityTagHeaderValue)>(StringComparer.Ordinal)
        {
            ["dashboard.css"] = Load("dashboard.css", "text/css; charset=utf-8"),
            ["dashboard.js"] = Load("dashboard.js", "text/javascript; charset=utf-8"),
            ["favicon.svg"] = Load("favicon.svg", "image/svg+xml"),
        }.ToFrozenDictionary(StringComparer.Ordinal);

    /// <summary><c>GET {dashboard}/assets/{name}</c>: one of the embedded files, or 404.</summary>
    public static IResult Serve(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out var asset))
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";
        return Results.Bytes(asset.Content, asset.ContentType, entityTag: asset.ETag);
    }

    private static (byte[], string, EntityTagHeaderValue) Load(string name, string contentType)
    {
        using var stream = typeof(DashboardAssets).Assembly.GetManifestResourceStream("AsyncQueue.Dashboard.Assets." + name)
            ?? throw new InvalidOperationException($"The embedded resource '{name}' is missing from {typeof(DashboardAssets).Assembly.GetName().Name}.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var content = copy.ToArray();
        return (content, contentType, new EntityTagHeaderValue($"\"{Convert.ToHexString(SHA256.HashData(content))[..16]}\""));
    }
}
