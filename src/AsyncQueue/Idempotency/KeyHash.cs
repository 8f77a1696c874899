using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace AsyncQueue.Idempotency;

/// <summary>
/// A 128-bit fingerprint of an idempotency key: SipHash-2-4 with 128-bit output, keyed with random bytes chosen once
/// per process. A retained key is kept as this fingerprint instead of its string (see <see cref="RetainedKeys"/>).
/// </summary>
/// <remarks>
/// Why a keyed cryptographic hash: two keys with one fingerprint would make the second a duplicate of the first, its
/// job refused. With 128 bits the chance among a million retained keys is about 2^-88, and since the process's random
/// key is secret, nobody who chooses keys (a user of a web API, say) can aim one at another's.
/// </remarks>
internal readonly record struct KeyHash(ulong Low, ulong High)
{
    private static readonly ulong[] ProcessKey = NewKey();

    /// <summary>The fingerprint of <paramref name="key"/> under this process's random key.</summary>
    public static KeyHash Of(string key) => Compute(MemoryMarshal.AsBytes(key.AsSpan()), ProcessKey[0], ProcessKey[1]);

    /// <summary>SipHash-2-4-128 of <paramref name="data"/> under the key (<paramref name="k0"/>, <paramref name="k1"/>), each read little-endian.</summary>
    internal static KeyHash Compute(ReadOnlySpan<byte> data, ulong k0, ulong k1)
    {
        var v0 = k0 ^ 0x736f6d6570736575UL;
        var v1 = k1 ^ 0x646f72616e646f6dUL ^ 0xee;
        var v2 = k0 ^ 0x6c7967656e657261UL;
        var v3 = k1 ^ 0x7465646279746573UL;

        var blocks = data.Length / 8 * 8;
        for (var i = 0; i < blocks; i += 8)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        // The last block: the remaining bytes, and the length's low byte on top.
        var last = (ulong)(data.Length & 0xff) << 56;
        for (var i = data.Length - 1; i >= blocks; i--)
        {
            last |= (ulong)data[i] << (8 * (i - blocks));
        }

        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;

        v2 ^= 0xee;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        var low = v0 ^ v1 ^ v2 ^ v3;

        v1 ^= 0xdd;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        return new KeyHash(low, v0 ^ v1 ^ v2 ^ v3);
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1;
        v1 = BitOperations.RotateLeft(v1, 13);
        v1 ^= v0;
        v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3;
        v3 = BitOperations.RotateLeft(v3, 16);
        v3 ^= v2;
        v0 += v3;
        v3 = BitOperations.RotateLeft(v3, 21);
        v3 ^= v0;
        v2 += v1;
        v1 = BitOperations.RotateLeft(v1, 17);
        v1 ^= v2;
        v2 = BitOperations.RotateLeft(v2, 32);
    }

    private static ulong[] NewKey()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return [BinaryPrimitives.ReadUInt64LittleEndian(bytes), BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..])];
    }
}
