using System.Security.Cryptography;
using System.Text;
using StackExchange.Redis;

namespace AsyncQueue.Redis.Storage;

/// <summary>
/// One Lua script, called by its SHA1 (<c>EVALSHA</c>): loaded on the server once at start (<c>SCRIPT LOAD</c>), and
/// again when the server answers <c>NOSCRIPT</c> (it restarted, or its script cache was flushed).
/// </summary>
internal sealed class RedisScript
{
    public RedisScript(string name, string text)
    {
        Name = name;
        Text = text;
#pragma warning disable CA5350 // SHA1 is how Redis names a script (EVALSHA), not a security measure.
        Sha1 = SHA1.HashData(Encoding.UTF8.GetBytes(text));
#pragma warning restore CA5350
    }

    public string Name { get; }

    public string Text { get; }

    public byte[] Sha1 { get; }

    /// <summary>Runs the script on the queue's base key; reloads it and runs it again if the server forgot it.</summary>
    public async Task<RedisResult> RunAsync(IDatabase database, Action<string>? onReload, RedisKey queueBase, params RedisValue[] values)
    {
        RedisKey[] keys = [queueBase];
        try
        {
            return await database.ScriptEvaluateAsync(Sha1, keys, values).ConfigureAwait(false);
        }
        catch (RedisServerException ex) when (ex.Message.StartsWith("NOSCRIPT", StringComparison.Ordinal))
        {
            // EVAL runs the text and puts it back in the server's cache, so the next EVALSHA finds it.
            onReload?.Invoke(Name);
            return await database.ScriptEvaluateAsync(Text, keys, values).ConfigureAwait(false);
        }
    }
}
