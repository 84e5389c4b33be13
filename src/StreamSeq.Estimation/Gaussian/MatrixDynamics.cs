namespace StreamSeq.Estimation.Gaussian;

/// <summary>Discrete-time dynamics given by explicit matrices: one step per observation whatever the gap.</summary>
public sealed class MatrixDynamics : ILinearDynamics
{
    private readonly double[] transition;
    private readonly double[] transitionNoise;
    private readonly double[] transitionOffset;

    /// <summary>Creates dynamics from F (n×n, row-major), Q (n×n) and an optional offset c (n).</summary>
    public MatrixDynamics(int stateDimension, ReadOnlySpan<double> transition, ReadOnlySpan<double> transitionNoise, ReadOnlySpan<double> transitionOffset = default)
    {
        var n = stateDimension;
        if (transition.Length != n * n || transitionNoise.Length != n * n)
        {
            throw new ArgumentException($"transition and transitionNoise must be {n}x{n}.");
        }

        StateDimension = n;
        this.transition = transition.ToArray();
        this.transitionNoise = transitionNoise.ToArray();
        this.transitionOffset = transitionOffset.IsEmpty ? new double[n] : transitionOffset.ToArray();
    }

    /// <inheritdoc />
    public int StateDimension { get; }

    /// <inheritdoc />
    public bool IsTimeInvariant => true;

    /// <summary>F, row-major.</summary>
    public ReadOnlySpan<double> Transition => transition;

    /// <summary>Q, row-major.</summary>
    public ReadOnlySpan<double> TransitionNoise => transitionNoise;

    /// <summary>c.</summary>
    public ReadOnlySpan<double> TransitionOffset => transitionOffset;

    /// <inheritdoc />
    public void Discretize(double timeGap, Span<double> transition, Span<double> transitionNoise, Span<double> transitionOffset)
    {
        this.transition.CopyTo(transition);
        this.transitionNoise.CopyTo(transitionNoise);
        this.transitionOffset.CopyTo(transitionOffset);
    }
}
