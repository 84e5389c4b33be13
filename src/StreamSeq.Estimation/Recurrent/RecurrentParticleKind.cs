using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// The <c>recurrent-particle</c> spec kind: a particle filter over a trained recurrent net's hidden state
/// (<see cref="RecurrentParticleModel"/>), with ancestor-tracing smoothing (fixed lag and fixed interval: the model
/// does not evaluate its transition density, so the marginal smoother of the <c>particle</c> kind does not apply).
/// </summary>
/// <remarks>
/// Fields: the network fields of <see cref="RecurrentKind"/> (with <c>controlDimension</c> and
/// <c>controlNormalization</c>: each reading's control u_t enters the particles' step cell(h, [z_{t-1}, u_t]), the first
/// reading's included), <c>observationNoise</c> (required,
/// positive definite), <c>processNoise</c> (default 1e-4), <c>initialVariance</c> (default <c>processNoise</c>), and
/// the particle settings of the <c>particle</c> kind (<c>particles</c>, <c>resampling</c>, <c>essThreshold</c>,
/// <c>filter</c>: <c>bootstrap</c> or <c>auxiliary</c>).
/// </remarks>
public sealed class RecurrentParticleKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "recurrent-particle";

    /// <inheritdoc />
    public string Description => "Particle filter over a trained recurrent net's hidden state (exact sampling of the head's noise), with a noisy sensor on top.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = RecurrentSpec.NetworkShape.With(RecurrentSpec.NoiseShape).With(ParticleKind.OptionsShape);

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
        var q = RecurrentSpec.Variances(spec, "processNoise") ?? [RecurrentUnscentedKind.DefaultProcessNoise];
        var v0 = RecurrentSpec.Variances(spec, "initialVariance") ?? q;
        var r = RecurrentSpec.ReadCovariance(spec, "observationNoise", layout.ObservationDimension);
        var options = ParticleKind.ReadOptions(spec);
        if (options.Algorithm == ParticleFilterAlgorithm.Guided)
        {
            throw spec.Error("filter", "must be \"bootstrap\" or \"auxiliary\" (the recurrent model has no importance proposal).");
        }

        return new ParticleFilter(new RecurrentParticleModel(backend, layout, q, r, v0), options);
    }
}
