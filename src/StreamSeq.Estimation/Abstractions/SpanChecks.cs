using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace StreamSeq.Estimation.Abstractions;

/// <summary>
/// The size checks at the public entry points of <see cref="IEstimator"/> and <see cref="IBackwardStep"/>: every span a
/// caller passes must have exactly the length <see cref="EstimatorInfo"/> gives, and an <see cref="Estimate"/> or
/// <see cref="Abstractions.Forecast"/> must have been sized for a model of the same dimensions. The kernels behind the
/// entry points index with unchecked access (vector loads and stores, <c>Unsafe.Add</c>), so a wrong size would
/// otherwise read or write outside the caller's memory; here it costs one comparison per span and throws an
/// <see cref="ArgumentException"/> naming the parameter, before any state is touched.
/// </summary>
/// <remarks>
/// Two lengths are allowed besides the exact one, because the contract gives them a meaning: an empty
/// <c>backwardRecord</c> (record nothing) and an empty control (no control input this step). A control passed to a
/// model that takes none is ignored, as it always was.
/// </remarks>
internal static class SpanChecks
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void State(ReadOnlySpan<double> state, EstimatorInfo info)
    {
        if (state.Length != info.StateLength)
        {
            ThrowLength("state", "state", info.StateLength, state.Length, info);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Step(ReadOnlySpan<double> state, in Observation observation, Estimate estimate, ReadOnlySpan<double> backwardRecord, EstimatorInfo info)
    {
        ArgumentNullException.ThrowIfNull(estimate);
        State(state, info);
        if (observation.Values.Length != info.ObservationDimension)
        {
            ThrowLength("observation", "observation values", info.ObservationDimension, observation.Values.Length, info);
        }

        var control = observation.Control.Length;
        if (control != 0 && control != info.ControlDimension && info.ControlDimension != 0)
        {
            ThrowLength("observation", "control input", info.ControlDimension, control, info);
        }

        if (!ReferenceEquals(estimate.Info, info) && !SameShape(estimate.Info, info))
        {
            ThrowShape("estimate", estimate.Info, info);
        }

        if (backwardRecord.Length != 0 && backwardRecord.Length != info.BackwardRecordLength && info.BackwardRecordLength != 0)
        {
            ThrowLength("backwardRecord", "backward record", info.BackwardRecordLength, backwardRecord.Length, info);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Forecast(ReadOnlySpan<double> state, Forecast forecast, EstimatorInfo info)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        State(state, info);
        if (!ReferenceEquals(forecast.Info, info)
            && (forecast.Info.StateDimension != info.StateDimension || forecast.Info.ObservationDimension != info.ObservationDimension))
        {
            ThrowShape("forecast", forecast.Info, info);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReadState(ReadOnlySpan<double> state, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, EstimatorInfo info)
    {
        State(state, info);
        Moments(mean, covariance, info);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StartBackward(ReadOnlySpan<double> record, ReadOnlySpan<double> message, EstimatorInfo info)
    {
        Record("record", record, info);
        Message(message, info);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Backward(ReadOnlySpan<double> record, ReadOnlySpan<double> nextRecord, ReadOnlySpan<double> message, EstimatorInfo info)
    {
        Record("record", record, info);
        Record("nextRecord", nextRecord, info);
        Message(message, info);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReadSmoothed(ReadOnlySpan<double> record, ReadOnlySpan<double> message, ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, EstimatorInfo info)
    {
        Record("record", record, info);
        Message(message, info);
        Moments(mean, covariance, info);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ReadSmoothedExtras(ReadOnlySpan<double> record, ReadOnlySpan<double> message, ReadOnlySpan<double> extras, EstimatorInfo info)
    {
        Record("record", record, info);
        Message(message, info);
        Exact("extras", "smoothed extras", extras, info.SmoothedExtrasLength, info);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Record(string parameter, ReadOnlySpan<double> record, EstimatorInfo info) =>
        Exact(parameter, "backward record", record, info.BackwardRecordLength, info);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Message(ReadOnlySpan<double> message, EstimatorInfo info) =>
        Exact("message", "smoothing message", message, info.SmoothingMessageLength, info);

    /// <summary>One span that must have exactly <paramref name="expected"/> values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Exact(string parameter, string what, ReadOnlySpan<double> span, int expected, EstimatorInfo info)
    {
        if (span.Length != expected)
        {
            ThrowLength(parameter, what, expected, span.Length, info);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Moments(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance, EstimatorInfo info)
    {
        var n = info.StateDimension;
        if (mean.Length != n)
        {
            ThrowLength("mean", "mean", n, mean.Length, info);
        }

        if (covariance.Length != n * n)
        {
            ThrowLength("covariance", "covariance", n * n, covariance.Length, info);
        }
    }

    /// <summary>Checks the buffers of <see cref="IParameterLearner.ReadParameters"/> (one value and one deviation per learned number).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Parameters(ReadOnlySpan<double> state, ReadOnlySpan<double> values, ReadOnlySpan<double> deviations, EstimatorInfo info)
    {
        State(state, info);
        Learned("values", values, info);
        Learned("deviations", deviations, info);
    }

    /// <summary>Checks the values of <see cref="IParameterLearner.StartFrom"/> (one per learned number).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Learned(string parameter, ReadOnlySpan<double> values, EstimatorInfo info) =>
        Exact(parameter, "learned-parameter buffer", values, info.ParametersLength, info);

    /// <summary>Checks a stream's own observation noise R (m×m) passed in place of the model's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Noise(ReadOnlySpan<double> r, EstimatorInfo info)
    {
        var m = info.ObservationDimension;
        if (r.Length != m * m)
        {
            ThrowLength("r", "observation noise", m * m, r.Length, info);
        }
    }

    /// <summary>
    /// True when buffers sized for <paramref name="other"/> have the layout and every length <paramref name="info"/>
    /// writes: the same dimensions and at least as many extras and learned values (a wrapper that learns parameters
    /// hands its estimate to the filter it wraps).
    /// </summary>
    private static bool SameShape(EstimatorInfo other, EstimatorInfo info) =>
        other.StateDimension == info.StateDimension
        && other.ObservationDimension == info.ObservationDimension
        && other.ExtrasLength >= info.ExtrasLength
        && other.SmoothedExtrasLength >= info.SmoothedExtrasLength
        && other.ParametersLength >= info.ParametersLength;

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowLength(string parameter, string what, int expected, int given, EstimatorInfo info) =>
        throw new ArgumentException($"The {what} has {given} values; the {info.Family} model needs exactly {expected}.", parameter);

    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowShape(string parameter, EstimatorInfo given, EstimatorInfo info) =>
        throw new ArgumentException(
            $"The {parameter} was sized for a model with state dimension {given.StateDimension}, observation dimension {given.ObservationDimension}, "
            + $"{given.ExtrasLength} extras, {given.SmoothedExtrasLength} smoothed extras and {given.ParametersLength} learned values; the {info.Family} model needs "
            + $"{info.StateDimension}, {info.ObservationDimension}, {info.ExtrasLength}, {info.SmoothedExtrasLength} and {info.ParametersLength}. "
            + $"Allocate it with new {(parameter == "forecast" ? "Forecast(estimator.Info, horizon)" : "Estimate(estimator.Info)")}.",
            parameter);
}
