using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The per-stream state layout shared by the extended and unscented filters: [steps, prior pending, mean (n),
/// covariance (n×n)]. The step count is an integer stored by bit reinterpretation; "prior pending" is 1 until the
/// first step after initialisation (or re-initialisation) has used the prior.
/// </summary>
internal static class NonlinearState
{
    public const int StepsSlot = 0;
    public const int PendingSlot = 1;
    public const int MeanSlot = 2;

    public static int Length(int n) => MeanSlot + n + (n * n);

    public static long Steps(ReadOnlySpan<double> state) => BitConverter.DoubleToInt64Bits(state[StepsSlot]);

    public static void SetSteps(Span<double> state, long steps) => state[StepsSlot] = BitConverter.Int64BitsToDouble(steps);

    public static bool PriorPending(ReadOnlySpan<double> state) => state[PendingSlot] != 0.0;

    public static Span<double> Mean(Span<double> state, int n) => state.Slice(MeanSlot, n);

    public static Span<double> Covariance(Span<double> state, int n) => state.Slice(MeanSlot + n, n * n);

    public static ReadOnlySpan<double> Mean(ReadOnlySpan<double> state, int n) => state.Slice(MeanSlot, n);

    public static ReadOnlySpan<double> Covariance(ReadOnlySpan<double> state, int n) => state.Slice(MeanSlot + n, n * n);

    /// <summary>Writes the prior; the step count is kept (a re-initialised stream continues its step index).</summary>
    public static void LoadPrior(Span<double> state, NonlinearGaussianModel model)
    {
        var n = model.StateDimension;
        state[PendingSlot] = 1.0;
        model.InitialMean.CopyTo(Mean(state, n));
        model.InitialCovariance.CopyTo(Covariance(state, n));
    }

    /// <summary>Index of the state held in the buffer: 0 for a time-zero prior, else the number of its observation.</summary>
    public static long HeldIndex(ReadOnlySpan<double> state, NonlinearGaussianModel model) =>
        Steps(state) + (PriorPending(state) && !model.PriorAtTimeZero ? 1 : 0);

    /// <summary>
    /// One step of <paramref name="filter"/>. When it resets a stream past its first step to the prior (a non-finite
    /// state, <see cref="EstimateFlags.Reinitialized"/>), the step runs again from the prior with this reading as the
    /// first, as a stream does whose first reading this is; the step index keeps counting, so step-dependent models stay
    /// in phase. When that also fails, the stream stays at the prior and the next reading is the first.
    /// </summary>
    public static void StepRestarting<TFilter>(TFilter filter, Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> r)
        where TFilter : INonlinearStep
    {
        var steps = Steps(state);
        var first = PriorPending(state);
        filter.StepOnce(state, observation, estimate, backwardRecord, r);
        if (!first && (estimate.Flags & EstimateFlags.Reinitialized) != 0)
        {
            SetSteps(state, steps);
            filter.StepOnce(state, observation, estimate, backwardRecord, r);
            estimate.Flags |= EstimateFlags.Reinitialized;
        }
    }
}
