using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Learning;

/// <summary>The outcome of gradient training: the fit summary, the trained weights and the loss history.</summary>
/// <param name="Fit">The spec with fitted values (e.g. a computed <c>normalization</c>; the caller adds the
/// <c>weights</c> path) and the total log-likelihood of all the data (training and validation parts) under the
/// kept weights.</param>
/// <param name="Weights">The trained tensors with PyTorch names, in double precision.</param>
/// <param name="TrainingNll">Mean negative log-likelihood per observed step on the training parts (observation
/// units), for the kept weights.</param>
/// <param name="ValidationNll">The same on the held-out tails (NaN without a validation split).</param>
/// <param name="BestEpoch">The epoch whose weights were kept (0: the starting weights).</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="TrainingSteps">Observed steps in the training parts.</param>
/// <param name="ValidationSteps">Observed steps in the held-out parts.</param>
public sealed record GradientFitResult(
    FitResult Fit,
    StateDictionary Weights,
    double TrainingNll,
    double ValidationNll,
    int BestEpoch,
    int Epochs,
    long TrainingSteps,
    long ValidationSteps)
{
    /// <summary>What the caller should know about the fit (for example a normalisation set by one outlying reading).</summary>
    public IReadOnlyList<string> Warnings { get; init; } = [];
}
