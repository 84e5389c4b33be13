namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>Small dense kernels of the training engine (row-major weights as PyTorch stores them).</summary>
internal static class TrainMath
{
    /// <summary>y += W x for W of rows × columns.</summary>
    public static void MultiplyAdd(ReadOnlySpan<double> w, int rows, int columns, ReadOnlySpan<double> x, Span<double> y)
    {
        for (var r = 0; r < rows; r++)
        {
            var row = w.Slice(r * columns, columns);
            var s = 0.0;
            for (var k = 0; k < columns; k++)
            {
                s += row[k] * x[k];
            }

            y[r] += s;
        }
    }

    /// <summary>y += Wᵀ d for W of rows × columns.</summary>
    public static void TransposedMultiplyAdd(ReadOnlySpan<double> w, int rows, int columns, ReadOnlySpan<double> d, Span<double> y)
    {
        for (var r = 0; r < rows; r++)
        {
            var dr = d[r];
            if (dr == 0.0)
            {
                continue;
            }

            var row = w.Slice(r * columns, columns);
            for (var k = 0; k < columns; k++)
            {
                y[k] += row[k] * dr;
            }
        }
    }

    /// <summary>G += d xᵀ for G of rows × columns.</summary>
    public static void OuterAdd(Span<double> g, int rows, int columns, ReadOnlySpan<double> d, ReadOnlySpan<double> x)
    {
        for (var r = 0; r < rows; r++)
        {
            var dr = d[r];
            if (dr == 0.0)
            {
                continue;
            }

            var row = g.Slice(r * columns, columns);
            for (var k = 0; k < columns; k++)
            {
                row[k] += dr * x[k];
            }
        }
    }

    /// <summary>y += x.</summary>
    public static void Add(ReadOnlySpan<double> x, Span<double> y)
    {
        for (var i = 0; i < y.Length; i++)
        {
            y[i] += x[i];
        }
    }

    public static double Sigmoid(double x) => x >= 0.0 ? 1.0 / (1.0 + Math.Exp(-x)) : Math.Exp(x) / (1.0 + Math.Exp(x));
}
