using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Nonlinear;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// The <c>recurrent-ukf</c> spec kind: the unscented Kalman filter over a trained recurrent net's hidden state
/// (<see cref="RecurrentStateSpace"/>), with filtering, unscented RTS smoothing and calibrated uncertainty.
/// </summary>
/// <remarks>
/// Fields: those of <see cref="RecurrentKind"/> that describe the network (<c>cell</c>, <c>inputSize</c>,
/// <c>hiddenSize</c>, <c>layers</c>, <c>precision</c>, <c>activation</c>, <c>weights</c>, <c>head</c>,
/// <c>normalization</c>, <c>controlNormalization</c>, <c>controlDimension</c>, <c>initialObservation</c>), plus
/// <c>observationNoise</c> (required: the sensor noise R on top of what the net models, as a variance, one variance
/// per component or an m×m matrix), <c>processNoise</c> (variance q added to every hidden state value per step, a
/// number or one per value; default 1e-4), <c>initialVariance</c> (of h_1; default <c>processNoise</c>),
/// <c>sigmaPoints</c> and <c>robust</c> as for <c>unscented-kalman</c>. The filter state is [h, z, e] (see
/// <see cref="RecurrentStateSpace"/>); z is the denoised signal.
/// </remarks>
public sealed class RecurrentUnscentedKind : IModelKind
{
    /// <summary>Default per-step process noise variance of each hidden value.</summary>
    public const double DefaultProcessNoise = 1e-4;

    /// <inheritdoc />
    public string Kind => "recurrent-ukf";

    /// <inheritdoc />
    public string Description => "Unscented Kalman filter over a trained recurrent net's hidden state (the cell as transition plus process noise, the Gaussian head as emission, a noisy sensor on top): filtering, smoothing, calibrated intervals.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = RecurrentSpec.NetworkShape.With(RecurrentSpec.NoiseShape).With(SpecShape.Of("robust").Nest("sigmaPoints", UnscentedKalmanKind.SigmaPointsShape));

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var shape = RecurrentSpec.ReadShape(spec);
        var layout = RecurrentSpec.ReadLayout(spec, shape.InputSize);
        var weights = RecurrentSpec.LoadWeights(spec);
        if (layout.InitialObservationFromFirstReading)
        {
            throw spec.Error("initialObservation", "\"first\" applies to the recurrent and onnx-recurrent kinds; this kind fixes its prior of h_1 when the model loads, so give y_0 as numbers.");
        }

        var backend = RecurrentSpec.CreateBackend(spec, shape, weights, layout.HeadOutputSize, RecurrentSpec.ReadHeadPrefix(spec));
        layout = RecurrentSpec.ReadInitialState(spec, layout, backend);
        var q = RecurrentSpec.Variances(spec, "processNoise") ?? [DefaultProcessNoise];
        var v0 = RecurrentSpec.Variances(spec, "initialVariance") ?? q;
        var r = RecurrentSpec.ReadCovariance(spec, "observationNoise", layout.ObservationDimension);
        var model = RecurrentStateSpace.Build(backend, layout, q, r, v0);
        var points = UnscentedKalmanKind.ReadSigmaPoints(spec.OptionalObject("sigmaPoints"), model.StateDimension);
        return new UnscentedKalmanFilter(model, points, spec.Boolean("robust", true), Kind);
    }
}
