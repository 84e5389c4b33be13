using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Discrete;

/// <summary>
/// Validated, immutable parameters of a hidden Markov model with K states:
/// s_1 ~ Categorical(π), P(s_t = j | s_{t−1} = i) = A_ij, y_t | s_t = k ~ <see cref="Emission"/>(k).
/// </summary>
/// <remarks>π is <see cref="InitialProbabilities"/> and A <see cref="Transition"/> (K×K, row-major, rows sum to 1).
/// States are 0-based. The prior π applies at the first observation (no transition before it).</remarks>
public sealed class HiddenMarkovModel
{
    /// <summary>How far a probability vector or transition row may be from summing to 1.</summary>
    public const double SumTolerance = 1e-9;

    private readonly double[] initialProbabilities;
    private readonly double[] transition;
    private readonly double[] logInitialProbabilities;
    private readonly double[] logTransition;

    /// <summary>Creates and validates a model; errors name the spec field (<c>transition[2]</c>, ...).</summary>
    /// <param name="initialProbabilities">π (K).</param>
    /// <param name="transition">A (K×K, row-major).</param>
    /// <param name="emission">The emission model (its state count must be K).</param>
    public HiddenMarkovModel(ReadOnlySpan<double> initialProbabilities, ReadOnlySpan<double> transition, HmmEmission emission)
    {
        ArgumentNullException.ThrowIfNull(emission);
        var k = initialProbabilities.Length;
        if (k < 1)
        {
            throw new ModelValidationException("initialProbabilities", "needs one probability per hidden state (at least one).");
        }

        CheckDistribution("initialProbabilities", initialProbabilities, "initialProbabilities");
        if (transition.Length != k * k)
        {
            throw new ModelValidationException("transition", $"must be {k}x{k} (one row and column per state), got {transition.Length} numbers.");
        }

        for (var i = 0; i < k; i++)
        {
            CheckDistribution($"transition[{i}]", transition.Slice(i * k, k), $"row {i}");
        }

        if (emission.StateCount != k)
        {
            throw new ModelValidationException("emission", $"describes {emission.StateCount} states but initialProbabilities has {k}.");
        }

        StateCount = k;
        Emission = emission;
        this.initialProbabilities = initialProbabilities.ToArray();
        this.transition = transition.ToArray();
        logInitialProbabilities = this.initialProbabilities.Select(v => Math.Log(v)).ToArray();
        logTransition = this.transition.Select(v => Math.Log(v)).ToArray();
    }

    /// <summary>Number of hidden states K.</summary>
    public int StateCount { get; }

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension => Emission.ObservationDimension;

    /// <summary>π.</summary>
    public ReadOnlySpan<double> InitialProbabilities => initialProbabilities;

    /// <summary>A (K×K, row-major): A[i·K + j] = P(s_t = j | s_{t−1} = i).</summary>
    public ReadOnlySpan<double> Transition => transition;

    /// <summary>The emission model.</summary>
    public HmmEmission Emission { get; }

    /// <summary>log π.</summary>
    internal ReadOnlySpan<double> LogInitialProbabilities => logInitialProbabilities;

    /// <summary>log A.</summary>
    internal ReadOnlySpan<double> LogTransition => logTransition;

    /// <summary>A copy with other parameters (used by Baum–Welch).</summary>
    public HiddenMarkovModel With(ReadOnlySpan<double> initialProbabilities = default, ReadOnlySpan<double> transition = default, HmmEmission? emission = null) =>
        new(
            initialProbabilities.IsEmpty ? this.initialProbabilities : initialProbabilities,
            transition.IsEmpty ? this.transition : transition,
            emission ?? Emission);

    private static void CheckDistribution(string field, ReadOnlySpan<double> p, string what)
    {
        var sum = 0.0;
        for (var j = 0; j < p.Length; j++)
        {
            if (!(p[j] >= 0.0) || p[j] > 1.0)
            {
                throw new ModelValidationException($"{field}[{j}]", $"must be a probability in [0, 1], got {p[j]}.");
            }

            sum += p[j];
        }

        if (Math.Abs(sum - 1.0) > SumTolerance)
        {
            throw new ModelValidationException(field, $"{what} sums to {sum:R}, not 1 (tolerance {SumTolerance:G}).");
        }
    }
}
