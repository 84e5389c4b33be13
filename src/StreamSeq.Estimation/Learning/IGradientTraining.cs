using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Learning;

/// <summary>
/// Implemented by model kinds whose parameters are trained by gradient descent on the negative log-likelihood
/// (<c>streamseq fit --method bptt</c>, the default for them): recurrent nets.
/// </summary>
/// <remarks>The spec need not name a weights file: training then starts from a seeded random initialisation,
/// otherwise from the weights it names (fine-tuning). The trained weights are returned, not written: the caller
/// stores them (the CLI writes a safetensors file next to the output spec and points the spec's <c>weights</c> at
/// it).</remarks>
public interface IGradientTraining
{
    /// <summary>The observation dimension the training data must have, read from the spec alone.</summary>
    int ObservationDimension(ModelSpec spec);

    /// <summary>The number of control inputs each training reading carries, read from the spec alone (0 for none).</summary>
    int ControlDimension(ModelSpec spec);

    /// <summary>Trains the model of <paramref name="spec"/> on the sequences.</summary>
    /// <param name="spec">The model (its shape, head and optional starting weights).</param>
    /// <param name="sequences">Training sequences (missing values allowed); a tail of each is held out for
    /// validation (<see cref="BpttOptions.ValidationFraction"/>).</param>
    /// <param name="options">Optimiser, truncation, batching, stopping and progress settings.</param>
    GradientFitResult FitGradient(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, BpttOptions options);
}
