namespace StreamSeq.Estimation.Abstractions;

/// <summary>Dimensions and buffer lengths of an estimator, fixed when it is built.</summary>
public sealed class EstimatorInfo
{
    private readonly IReadOnlyList<ExtraField> extras = [];
    private readonly IReadOnlyList<ExtraField> smoothedExtras = [];
    private readonly IReadOnlyList<LearnedParameter> parameters = [];

    /// <summary>Family name written into output records, for example <c>kalman</c>, <c>ukf</c>, <c>hmm</c>.</summary>
    public required string Family { get; init; }

    /// <summary>Length n of the reported state mean (covariances are n×n).</summary>
    public required int StateDimension { get; init; }

    /// <summary>Length m of an observation vector.</summary>
    public required int ObservationDimension { get; init; }

    /// <summary>Length of the optional control input vector (0 when the model takes none).</summary>
    public int ControlDimension { get; init; }

    /// <summary>Doubles in the per-stream state buffer.</summary>
    public required int StateLength { get; init; }

    /// <summary>Doubles in one forward record for the backward step; 0 when the estimator cannot smooth.</summary>
    public int BackwardRecordLength { get; init; }

    /// <summary>Doubles in one backward message.</summary>
    public int SmoothingMessageLength { get; init; }

    /// <summary>True when the time gap between observations changes the dynamics (continuous-time models).</summary>
    public bool UsesTimeGap { get; init; }

    /// <summary>True when the state covariance is meaningful (false for deterministic recurrent nets).</summary>
    public bool HasStateCovariance { get; init; } = true;

    /// <summary>Family-specific outputs, in the order they are laid out in <see cref="Estimate.Extras"/>.</summary>
    public IReadOnlyList<ExtraField> Extras
    {
        get => extras;
        init => (extras, ExtrasLength) = (value, TotalLength(value));
    }

    /// <summary>Total length of the extras vector.</summary>
    public int ExtrasLength { get; private init; }

    /// <summary>
    /// Family-specific outputs of a smoothed step (for example the HMM's Viterbi state), in the order they are laid out
    /// in <see cref="Estimate.SmoothedExtras"/>; read by <see cref="IBackwardStep.ReadSmoothedExtras"/>.
    /// </summary>
    public IReadOnlyList<ExtraField> SmoothedExtras
    {
        get => smoothedExtras;
        init => (smoothedExtras, SmoothedExtrasLength) = (value, TotalLength(value));
    }

    /// <summary>Total length of the smoothed extras vector.</summary>
    public int SmoothedExtrasLength { get; private init; }

    /// <summary>
    /// Parameters each stream learns online (empty unless the spec has <c>adapt</c>), in the order their values are
    /// laid out in <see cref="Estimate.Parameters"/>; see <see cref="IParameterLearner"/>.
    /// </summary>
    public IReadOnlyList<LearnedParameter> Parameters
    {
        get => parameters;
        init => (parameters, ParametersLength) = (value, value.Sum(p => p.Length));
    }

    /// <summary>Total length of the learned values.</summary>
    public int ParametersLength { get; private init; }

    /// <summary>True when smoothing is possible.</summary>
    public bool CanSmooth => BackwardRecordLength > 0;

    private static int TotalLength(IReadOnlyList<ExtraField> fields) => fields.Sum(e => e.Length);

    /// <summary>Offset of the named extra in <see cref="Estimate.Extras"/>, or -1.</summary>
    public int ExtraOffset(string name)
    {
        var offset = 0;
        foreach (var e in extras)
        {
            if (e.Name == name)
            {
                return offset;
            }

            offset += e.Length;
        }

        return -1;
    }
}
