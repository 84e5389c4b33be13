using System.Numerics;
using System.Runtime.CompilerServices;

namespace StreamSeq.Estimation.Particles;

/// <summary>
/// The xoshiro256** generator (Blackman &amp; Vigna) with ziggurat Gaussian draws: small, fast and fully
/// described by four 64-bit words, which live in the stream's state buffer so a copied state continues
/// bit-identically.
/// </summary>
/// <remarks>
/// <para>Seeding expands a 64-bit seed with SplitMix64 into the four words (never all zero). <see cref="Load"/> and
/// <see cref="Store"/> move the words in and out of a state buffer by bit reinterpretation (no arithmetic touches
/// them). The struct is passed by reference through a step and stored back at its end.</para>
/// <para>Normal draws use a 256-layer ziggurat (Marsaglia &amp; Tsang) on one 64-bit word per attempt: 8 bits
/// choose the layer and 53 bits give a signed uniform. No spare value is cached, so the four words are the
/// whole state.</para>
/// </remarks>
public struct ParticleRandom
{
    /// <summary>Doubles a generator occupies in a state buffer.</summary>
    public const int StateLength = 4;

    private const double TailStart = 3.6541528853610088;
    private const double LayerArea = 4.92867323399e-3;
    private const double SignedScale = 1.0 / (1L << 52);

    private static readonly double[] LayerX = BuildLayers();
    private static readonly double[] LayerF = BuildDensities(LayerX);

    private ulong s0;
    private ulong s1;
    private ulong s2;
    private ulong s3;

    /// <summary>Creates a generator from a 64-bit seed (SplitMix64 expansion).</summary>
    public static ParticleRandom FromSeed(ulong seed)
    {
        var x = seed;
        var r = new ParticleRandom
        {
            s0 = SplitMix(ref x),
            s1 = SplitMix(ref x),
            s2 = SplitMix(ref x),
            s3 = SplitMix(ref x),
        };
        if ((r.s0 | r.s1 | r.s2 | r.s3) == 0)
        {
            r.s0 = 1;
        }

        return r;
    }

    /// <summary>Creates a generator directly from its four words (for tests against published sequences).</summary>
    public static ParticleRandom FromWords(ulong word0, ulong word1, ulong word2, ulong word3) =>
        new() { s0 = word0, s1 = word1, s2 = word2, s3 = word3 };

    /// <summary>Reads a generator stored by <see cref="Store"/>.</summary>
    public static ParticleRandom Load(ReadOnlySpan<double> words) => new()
    {
        s0 = (ulong)BitConverter.DoubleToInt64Bits(words[0]),
        s1 = (ulong)BitConverter.DoubleToInt64Bits(words[1]),
        s2 = (ulong)BitConverter.DoubleToInt64Bits(words[2]),
        s3 = (ulong)BitConverter.DoubleToInt64Bits(words[3]),
    };

    /// <summary>
    /// A generator for a side computation (forecasts) derived from this one's words and a label, without advancing
    /// this one: the same state and label always give the same derived stream.
    /// </summary>
    public readonly ParticleRandom Derive(ulong label)
    {
        var x = s0 ^ RotateLeft(s1, 17) ^ RotateLeft(s2, 31) ^ RotateLeft(s3, 47) ^ (label * 0xD1B54A32D192ED03UL);
        return FromSeed(x);
    }

    /// <summary>Writes the four words into a state buffer by bit reinterpretation.</summary>
    public readonly void Store(Span<double> words)
    {
        words[0] = BitConverter.Int64BitsToDouble((long)s0);
        words[1] = BitConverter.Int64BitsToDouble((long)s1);
        words[2] = BitConverter.Int64BitsToDouble((long)s2);
        words[3] = BitConverter.Int64BitsToDouble((long)s3);
    }

    /// <summary>The next 64 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong NextUInt64()
    {
        var result = RotateLeft(s1 * 5, 7) * 9;
        var t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = RotateLeft(s3, 45);
        return result;
    }

    /// <summary>A uniform double in [0, 1) with 53 random bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A uniform double in (0, 1], safe to take the logarithm of.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextOpenDouble() => ((NextUInt64() >> 11) + 1) * (1.0 / (1UL << 53));

    /// <summary>A standard normal draw.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public double NextGaussian()
    {
        var u = NextUInt64();
        var layer = (int)(u & 255);
        var x = ((long)u >> 11) * SignedScale * LayerX[layer];
        return Math.Abs(x) < LayerX[layer + 1] ? x : GaussianSlow(layer, x);
    }

    /// <summary>Fills a span with standard normal draws (the same sequence as repeated <see cref="NextGaussian"/>).</summary>
    public void FillGaussian(Span<double> values)
    {
        // The generator words live in locals (registers) through the fast path and go back to the fields only
        // around the rare wedge/tail draws.
        ulong a = s0, b = s1, c = s2, d = s3;
        var x = LayerX;
        for (var i = 0; i < values.Length; i++)
        {
            var u = RotateLeft(b * 5, 7) * 9;
            var t = b << 17;
            c ^= a;
            d ^= b;
            b ^= c;
            a ^= d;
            c ^= t;
            d = RotateLeft(d, 45);
            var layer = (int)(u & 255);
            var z = ((long)u >> 11) * SignedScale * x[layer];
            if (Math.Abs(z) < x[layer + 1])
            {
                values[i] = z;
                continue;
            }

            s0 = a;
            s1 = b;
            s2 = c;
            s3 = d;
            values[i] = GaussianSlow(layer, z);
            a = s0;
            b = s1;
            c = s2;
            d = s3;
        }

        s0 = a;
        s1 = b;
        s2 = c;
        s3 = d;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private double GaussianSlow(int layer, double x)
    {
        while (true)
        {
            if (layer == 0)
            {
                // Tail beyond R by Marsaglia's exponential rejection.
                double a, b;
                do
                {
                    a = -Math.Log(NextOpenDouble()) / TailStart;
                    b = -Math.Log(NextOpenDouble());
                }
                while (b + b < a * a);
                return x < 0 ? -(TailStart + a) : TailStart + a;
            }

            // Wedge between the layer's inner and outer edges.
            var height = LayerF[layer] + (NextDouble() * (LayerF[layer + 1] - LayerF[layer]));
            if (height < Math.Exp(-0.5 * x * x))
            {
                return x;
            }

            var u = NextUInt64();
            layer = (int)(u & 255);
            x = ((long)u >> 11) * SignedScale * LayerX[layer];
            if (Math.Abs(x) < LayerX[layer + 1])
            {
                return x;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong RotateLeft(ulong x, int k) => BitOperations.RotateLeft(x, k);

    private static ulong SplitMix(ref ulong x)
    {
        var z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Layer edges x_0 &gt; x_1 = R &gt; … &gt; x_256 = 0; x_0 is the base strip's equivalent width V / f(R).</summary>
    private static double[] BuildLayers()
    {
        var x = new double[257];
        var f = Math.Exp(-0.5 * TailStart * TailStart);
        x[0] = LayerArea / f;
        x[1] = TailStart;
        for (var i = 1; i < 255; i++)
        {
            var fi = Math.Exp(-0.5 * x[i] * x[i]);
            x[i + 1] = Math.Sqrt(-2.0 * Math.Log((LayerArea / x[i]) + fi));
        }

        x[256] = 0.0;
        return x;
    }

    private static double[] BuildDensities(double[] x)
    {
        var f = new double[x.Length];
        for (var i = 0; i < x.Length; i++)
        {
            f[i] = Math.Exp(-0.5 * x[i] * x[i]);
        }

        return f;
    }
}
