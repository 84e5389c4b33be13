using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Recurrent.Training;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// The <c>recurrent</c> spec kind: an LSTM, peephole LSTM, GRU or Elman net with a Gaussian or point head, run as a
/// deterministic state-space model (<see cref="RecurrentEstimator"/>), and trainable by truncated back-propagation
/// through time (<c>streamseq fit --method bptt</c>).
/// </summary>
/// <remarks>
/// Fields: <c>cell</c> (<c>lstm</c>, <c>peephole-lstm</c>, <c>gru</c>, <c>elman</c>), <c>inputSize</c> (observation
/// dimension + <c>controlDimension</c>), <c>hiddenSize</c>, <c>layers</c> (1), <c>precision</c> (<c>double</c> or
/// <c>single</c>), <c>activation</c> (Elman: <c>tanh</c>/<c>relu</c>), <c>weights</c> (a .safetensors file or a JSON
/// dump with PyTorch names, relative to the spec file), <c>head</c> (<c>{"type":"gaussian","covariance":
/// "diagonal-log-variance"|"cholesky-exp"|"cholesky-softplus"}</c> or <c>{"type":"point","variance":v}</c>, plus
/// an optional tensor <c>prefix</c>, default <c>head</c>), <c>normalization</c> (<c>{"mean":[..],"scale":[..]}</c>),
/// <c>controlNormalization</c>, <c>initialObservation</c>, <c>state</c> (<c>full</c> or <c>output</c>) and
/// <c>forecastSamples</c> (0: forecasts feed back the mean). See <see cref="RecurrentLayout"/> for the input layout.
/// </remarks>
/// <example>
/// <code>{"name":"nar","kind":"recurrent","cell":"lstm","inputSize":1,"hiddenSize":8,"weights":"nar.safetensors",
///  "head":{"type":"gaussian","covariance":"diagonal-log-variance"},"normalization":{"mean":[0.1],"scale":[1.3]}}</code>
/// </example>
public sealed class RecurrentKind : IModelKind, IGradientTraining
{
    /// <inheritdoc />
    public string Kind => "recurrent";

    /// <inheritdoc />
    public string Description => "Recurrent net (LSTM, peephole LSTM, GRU, Elman; PyTorch weights from safetensors or JSON) with a Gaussian or point head, as a deterministic state-space model; trainable by truncated BPTT.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = RecurrentSpec.NetworkShape.With(RecurrentSpec.EstimatorShape);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var shape = RecurrentSpec.ReadShape(spec);
        var layout = RecurrentSpec.ReadLayout(spec, shape.InputSize);
        var weights = RecurrentSpec.LoadWeights(spec);
        var backend = RecurrentSpec.CreateBackend(spec, shape, weights, layout.HeadOutputSize, RecurrentSpec.ReadHeadPrefix(spec));
        return RecurrentSpec.BuildEstimator(spec, backend, RecurrentSpec.ReadInitialState(spec, layout, backend));
    }

    /// <inheritdoc />
    public int ObservationDimension(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var reader = spec.Reader();
        var shape = RecurrentSpec.ReadShape(reader);
        return RecurrentSpec.ReadLayout(reader, shape.InputSize).ObservationDimension;
    }

    /// <inheritdoc />
    public int ControlDimension(ModelSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var reader = spec.Reader();
        var shape = RecurrentSpec.ReadShape(reader);
        return RecurrentSpec.ReadLayout(reader, shape.InputSize).ControlDimension;
    }

    /// <inheritdoc />
    public GradientFitResult FitGradient(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, BpttOptions options) =>
        BpttTrainer.Fit(spec, sequences, options);
}
