namespace StreamSeq.Estimation.Abstractions;

/// <summary>Health events of one step, counted by the processor and exported as metrics.</summary>
[Flags]
public enum EstimateFlags
{
    /// <summary>Nothing unusual.</summary>
    None = 0,

    /// <summary>A covariance lost symmetry or positive semi-definiteness and was repaired (eigenvalues clipped).</summary>
    Repaired = 1,

    /// <summary>The state became non-finite or degenerate and was re-initialised from the prior.</summary>
    Reinitialized = 2,

    /// <summary>The particle filter resampled at this step.</summary>
    Resampled = 4,

    /// <summary>The step is inside the exact diffuse initialisation period.</summary>
    Diffuse = 8,

    /// <summary>The observation could not be used (for example a singular innovation covariance) and was skipped.</summary>
    ObservationSkipped = 16,

    /// <summary>The exact diffuse period ended with state directions the data had not determined numerically; they
    /// received a large finite prior (see docs/diffuse-initialization.md).</summary>
    DiffuseFallback = 32,

    /// <summary>Online noise learning's gate rejected a reading component as an outlier: its predictive tail
    /// probability was below the gate and the previous reading of that component was not rejected; the state did not
    /// assimilate it and nothing was learned from it (see docs/adaptation.md).</summary>
    OutlierRejected = 64,
}
