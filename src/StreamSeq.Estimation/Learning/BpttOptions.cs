using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Learning;

/// <summary>Settings of truncated back-propagation through time with Adam (<c>streamseq fit --method bptt</c>).</summary>
/// <remarks>
/// Every training sequence is cut into chunks of <see cref="ChunkLength"/> steps; gradients flow within a chunk only
/// (truncation), and each chunk starts from the state the current network reaches at that point of its sequence
/// (recomputed once per epoch, not differentiated). Mini-batches of <see cref="BatchSize"/> chunks in a seeded random
/// order give one Adam step each, on the mean per-step Gaussian negative log-likelihood, after clipping the gradient
/// to a global L2 norm of <see cref="ClipNorm"/>. The last <see cref="ValidationFraction"/> of each sequence is held
/// out; training stops when its negative log-likelihood has not improved for <see cref="Patience"/> epochs, and the
/// weights of the best epoch are kept.
/// </remarks>
public sealed class BpttOptions
{
    /// <summary>Maximum number of passes over the training chunks. Default 100.</summary>
    public int Epochs { get; init; } = 100;

    /// <summary>Adam step size. Default 0.01.</summary>
    public double LearningRate { get; init; } = 0.01;

    /// <summary>Truncation length: steps per chunk. Default 32.</summary>
    public int ChunkLength { get; init; } = 32;

    /// <summary>Chunks per mini-batch. Default 16.</summary>
    public int BatchSize { get; init; } = 16;

    /// <summary>Global gradient-norm clipping threshold, finite (0 or less: no clipping). Default 1.</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>Fraction of each sequence's tail held out for validation and early stopping, in [0, 1). Default 0.2;
    /// 0 trains on everything and stops on the training loss.</summary>
    public double ValidationFraction { get; init; } = 0.2;

    /// <summary>Epochs without improvement of the validation loss before stopping. Default 10.</summary>
    public int Patience { get; init; } = 10;

    /// <summary>Seed of the initial weights and the chunk order: the same seed gives identical weights.</summary>
    public ulong Seed { get; init; }

    /// <summary>Receives progress after each epoch (the negated mean training NLL, and the validation NLL in the
    /// message).</summary>
    public IProgress<FitProgress>? Progress { get; init; }

    /// <summary>Throws <see cref="ModelValidationException"/> naming the first invalid setting (by its CLI flag).</summary>
    public void Validate()
    {
        if (Epochs < 1)
        {
            throw new ModelValidationException("--epochs", $"must be at least 1, got {Epochs}.");
        }

        if (!(LearningRate > 0.0) || !double.IsFinite(LearningRate))
        {
            throw new ModelValidationException("--learning-rate", $"must be positive, got {LearningRate}.");
        }

        if (ChunkLength < 1)
        {
            throw new ModelValidationException("--chunk-length", $"must be at least 1, got {ChunkLength}.");
        }

        if (BatchSize < 1)
        {
            throw new ModelValidationException("--batch-size", $"must be at least 1, got {BatchSize}.");
        }

        if (!double.IsFinite(ClipNorm))
        {
            // Infinity clipped nothing, as 0 does, but the fitted spec records its options and JSON has no infinity:
            // the finished training then failed to write it.
            throw new ModelValidationException("--clip-norm", $"must be a finite number (0 or less: no clipping), got {ClipNorm}.");
        }

        if (!(ValidationFraction >= 0.0 && ValidationFraction < 1.0))
        {
            throw new ModelValidationException("--validation-fraction", $"must be in [0, 1), got {ValidationFraction}.");
        }

        if (Patience < 1)
        {
            throw new ModelValidationException("--patience", $"must be at least 1, got {Patience}.");
        }
    }
}
