using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Switching;

/// <summary>
/// Validated parameters of a switching linear dynamical system (a jump Markov linear system): K linear Gaussian
/// modes sharing the state and observation dimensions, and a Markov chain choosing the active mode.
/// </summary>
/// <remarks>
/// s_1 ~ Categorical(π) with π = <see cref="InitialModeProbabilities"/>; P(s_t = j | s_{t−1} = i) = Π_ij with Π =
/// <see cref="ModeTransition"/> (K×K, row-major, rows sum to 1); given s_t = j the state and observation follow
/// <see cref="Modes"/>[j]: h_t = F_j h_{t−1} + c_j + w_t, w_t ~ N(0, Q_j), y_t = H_j h_t + d_j + v_t, v_t ~ N(0, R_j).
/// Mode j's prior (a_1, P_1) is the prior of h_1 given s_1 = j.
/// </remarks>
public sealed class SwitchingLinearGaussianModel
{
    private readonly double[] modeTransition;
    private readonly double[] initialModeProbabilities;

    /// <summary>Creates and validates the model; errors name the spec field.</summary>
    public SwitchingLinearGaussianModel(IReadOnlyList<LinearGaussianModel> modes, ReadOnlySpan<double> modeTransition, ReadOnlySpan<double> initialModeProbabilities)
    {
        ArgumentNullException.ThrowIfNull(modes);
        var k = modes.Count;
        if (k < 1)
        {
            throw new ModelValidationException("modes", "needs at least one mode.");
        }

        var first = modes[0];
        for (var j = 0; j < k; j++)
        {
            var mode = modes[j];
            if (mode.StateDimension != first.StateDimension)
            {
                throw new ModelValidationException($"modes[{j}]", $"has {mode.StateDimension} states but modes[0] has {first.StateDimension}; every mode needs the same state dimension.");
            }

            if (mode.ObservationDimension != first.ObservationDimension)
            {
                throw new ModelValidationException($"modes[{j}]", $"observes {mode.ObservationDimension} components but modes[0] observes {first.ObservationDimension}.");
            }

            if (mode.ControlDimension != first.ControlDimension)
            {
                throw new ModelValidationException($"modes[{j}].control", $"has {mode.ControlDimension} control inputs but modes[0] has {first.ControlDimension}.");
            }

            if (mode.IsDiffuse)
            {
                throw new ModelValidationException($"modes[{j}].initialization", "the IMM filter needs a proper prior per mode (initialMean and initialCovariance), not exact diffuse initialisation.");
            }
        }

        if (modeTransition.Length != k * k)
        {
            throw new ModelValidationException("modeTransition", $"must be {k}x{k} (one row and column per mode), got {modeTransition.Length} numbers.");
        }

        for (var i = 0; i < k; i++)
        {
            CheckDistribution($"modeTransition[{i}]", modeTransition.Slice(i * k, k));
        }

        if (initialModeProbabilities.Length != k)
        {
            throw new ModelValidationException("initialModeProbabilities", $"must have {k} entries (one per mode), got {initialModeProbabilities.Length}.");
        }

        CheckDistribution("initialModeProbabilities", initialModeProbabilities);
        Modes = [.. modes];
        this.modeTransition = modeTransition.ToArray();
        this.initialModeProbabilities = initialModeProbabilities.ToArray();
    }

    /// <summary>The per-mode linear Gaussian models.</summary>
    public IReadOnlyList<LinearGaussianModel> Modes { get; }

    /// <summary>Number of modes K.</summary>
    public int ModeCount => Modes.Count;

    /// <summary>State dimension n.</summary>
    public int StateDimension => Modes[0].StateDimension;

    /// <summary>Observation dimension m.</summary>
    public int ObservationDimension => Modes[0].ObservationDimension;

    /// <summary>Π, row-major K×K: Π_ij = P(s_t = j | s_{t−1} = i).</summary>
    public ReadOnlySpan<double> ModeTransition => modeTransition;

    /// <summary>π = P(s_1).</summary>
    public ReadOnlySpan<double> InitialModeProbabilities => initialModeProbabilities;

    private static void CheckDistribution(string field, ReadOnlySpan<double> p)
    {
        var sum = 0.0;
        for (var i = 0; i < p.Length; i++)
        {
            if (!(p[i] >= 0.0) || !double.IsFinite(p[i]))
            {
                throw new ModelValidationException($"{field}", $"entry {i} is {p[i]}; probabilities must be finite and non-negative.");
            }

            sum += p[i];
        }

        if (Math.Abs(sum - 1.0) > 1e-9)
        {
            throw new ModelValidationException(field, $"sums to {sum:R}; the probabilities must sum to 1.");
        }
    }
}
