namespace StreamSeq.Estimation.Particles;

/// <summary>How a particle population is resampled (spec field <c>resampling</c>).</summary>
public enum ResamplingScheme
{
    /// <summary>N independent draws from the weights (<c>multinomial</c>): unbiased, highest variance.</summary>
    Multinomial,

    /// <summary>One uniform per stratum [k/N, (k+1)/N) (<c>stratified</c>).</summary>
    Stratified,

    /// <summary>One uniform shared by all strata (<c>systematic</c>): offspring counts are ⌊N w⌋ or ⌈N w⌉.</summary>
    Systematic,

    /// <summary>⌊N w⌋ deterministic copies, the rest multinomial on the residual weights (<c>residual</c>).</summary>
    Residual,
}
