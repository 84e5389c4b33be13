namespace StreamSeq.Estimation.Gaussian.ContinuousTime;

/// <summary>
/// The block-diagonal sum of continuous-time components, discretised by the actual gap between observations
/// (irregular sampling is exact, not interpolated).
/// </summary>
public sealed class ContinuousTimeDynamics : ILinearDynamics
{
    private readonly ContinuousComponent[] components;
    private readonly int[] offsets;
    private readonly int maxBlock;

    /// <summary>Creates the sum of <paramref name="components"/>; all must observe the same number of dimensions.</summary>
    public ContinuousTimeDynamics(IReadOnlyList<ContinuousComponent> components)
    {
        ArgumentNullException.ThrowIfNull(components);
        if (components.Count == 0)
        {
            throw new Abstractions.ModelValidationException("components", "needs at least one component.");
        }

        this.components = [.. components];
        offsets = new int[components.Count + 1];
        for (var i = 0; i < components.Count; i++)
        {
            offsets[i + 1] = offsets[i] + components[i].StateDimension;
            if (components[i].ObservationDimension != components[0].ObservationDimension)
            {
                throw new Abstractions.ModelValidationException(
                    $"components[{i}]",
                    $"observes {components[i].ObservationDimension} dimensions but components[0] observes {components[0].ObservationDimension}; summed components must observe the same dimensions.");
            }
        }

        StateDimension = offsets[^1];
        maxBlock = components.Max(c => c.StateDimension);
        ObservationDimension = components[0].ObservationDimension;
    }

    /// <summary>The components in state order.</summary>
    public IReadOnlyList<ContinuousComponent> Components => components;

    /// <inheritdoc />
    public int StateDimension { get; }

    /// <summary>Observed dimensions m.</summary>
    public int ObservationDimension { get; }

    /// <inheritdoc />
    public bool IsTimeInvariant => false;

    /// <inheritdoc />
    public void Discretize(double timeGap, Span<double> transition, Span<double> transitionNoise, Span<double> transitionOffset)
    {
        var n = StateDimension;
        transition[..(n * n)].Clear();
        transitionNoise[..(n * n)].Clear();
        transitionOffset[..n].Clear();
        if (components.Length == 1)
        {
            components[0].Discretize(timeGap, transition, transitionNoise, transitionOffset);
            return;
        }

        Span<double> f = stackalloc double[maxBlock * maxBlock];
        Span<double> q = stackalloc double[f.Length];
        Span<double> c = stackalloc double[maxBlock];
        for (var k = 0; k < components.Length; k++)
        {
            var b = components[k].StateDimension;
            var o = offsets[k];
            f.Clear();
            q.Clear();
            c.Clear();
            components[k].Discretize(timeGap, f, q, c);
            for (var i = 0; i < b; i++)
            {
                transitionOffset[o + i] = c[i];
                for (var j = 0; j < b; j++)
                {
                    transition[((o + i) * n) + o + j] = f[(i * b) + j];
                    transitionNoise[((o + i) * n) + o + j] = q[(i * b) + j];
                }
            }
        }
    }

    /// <summary>Writes the m×n observation matrix: each component's columns side by side.</summary>
    public void WriteObservation(Span<double> observation)
    {
        var n = StateDimension;
        var m = ObservationDimension;
        observation[..(m * n)].Clear();
        for (var k = 0; k < components.Length; k++)
        {
            var b = components[k].StateDimension;
            var block = new double[m * b];
            components[k].WriteObservation(block);
            for (var i = 0; i < m; i++)
            {
                for (var j = 0; j < b; j++)
                {
                    observation[(i * n) + offsets[k] + j] = block[(i * b) + j];
                }
            }
        }
    }

    /// <summary>Writes the default prior of the sum (each component's default, block-diagonal).</summary>
    public void WriteInitial(Span<double> mean, Span<double> covariance, Span<double> diffuse)
    {
        var n = StateDimension;
        for (var k = 0; k < components.Length; k++)
        {
            var b = components[k].StateDimension;
            var m = new double[b];
            var p = new double[b * b];
            var d = new double[b * b];
            components[k].WriteInitial(m, p, d);
            for (var i = 0; i < b; i++)
            {
                mean[offsets[k] + i] = m[i];
                for (var j = 0; j < b; j++)
                {
                    covariance[((offsets[k] + i) * n) + offsets[k] + j] = p[(i * b) + j];
                    diffuse[((offsets[k] + i) * n) + offsets[k] + j] = d[(i * b) + j];
                }
            }
        }
    }
}
