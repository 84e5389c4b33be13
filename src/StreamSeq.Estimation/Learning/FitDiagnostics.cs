namespace StreamSeq.Estimation.Learning;

/// <summary>What a fit tells a statistician beyond the estimates: why the optimiser stopped, standard errors from
/// the observed information, and warnings when the data cannot identify a parameter.</summary>
/// <remarks>The observed information is minus the Hessian of the log-likelihood at the optimum, computed by central
/// differences on the optimiser's scale (variances on a log scale); its inverse is the covariance of the optimiser's
/// coordinates, carried to the natural scale by the delta method. That is the <c>cov_type='approx'</c> of statsmodels
/// (its default <c>'oim'</c> uses Harvey's formula from the innovations instead, which differs in finite samples).
/// </remarks>
public sealed class FitDiagnostics
{
    /// <summary>Why the optimiser stopped, in words.</summary>
    public required string StopReason { get; init; }

    /// <summary>True when the optimiser met its convergence test (not the iteration limit or a failure).</summary>
    public required bool OptimizerConverged { get; init; }

    /// <summary>Fitted numbers on the natural scale with standard errors.</summary>
    public required IReadOnlyList<ParameterEstimate> Parameters { get; init; }

    /// <summary>The optimiser's coordinates with standard errors on that scale.</summary>
    public required IReadOnlyList<OptimizerCoordinate> Coordinates { get; init; }

    /// <summary>True when the observed information is positive definite, so standard errors exist.</summary>
    public required bool StandardErrorsAvailable { get; init; }

    /// <summary>How the standard errors were obtained, or why they are unavailable.</summary>
    public required string StandardErrorNote { get; init; }

    /// <summary>Observed scalar values used (missing components excluded).</summary>
    public required int Observations { get; init; }

    /// <summary>Observed values that carry information about the parameters: <see cref="Observations"/> less those an
    /// exact diffuse start spends on determining the initial state (one per diffuse state direction and sequence).</summary>
    public int InformativeObservations { get; init; } = -1;

    /// <summary>Free parameters (optimiser coordinates).</summary>
    public int FreeParameters => Coordinates.Count;

    /// <summary>False when the likelihood is a Monte-Carlo estimate whose curvature cannot be measured, so
    /// identification is judged only by counting observed values.</summary>
    public bool CurvatureChecked { get; init; } = true;

    /// <summary>Identification and convergence problems, one sentence each.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    /// <summary>True when the optimiser converged, with at least as many informative observed values as free
    /// parameters, to a point where the observed information is positive definite (a strict local maximum the data
    /// identify; not checkable for a Monte-Carlo likelihood).</summary>
    public bool IdentifiedMaximum => OptimizerConverged && (InformativeObservations < 0 ? Observations : InformativeObservations) >= FreeParameters && (StandardErrorsAvailable || !CurvatureChecked);
}
