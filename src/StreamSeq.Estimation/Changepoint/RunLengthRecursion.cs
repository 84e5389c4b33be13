namespace StreamSeq.Estimation.Changepoint;

/// <summary>Which form of the run-length recursion the detector stores and summarises.</summary>
/// <remarks>Both describe the same generative model, with the same predictive densities and evidence; they differ in
/// what r_t counts. They are linked by P_am(r_t = k + 1) = (1 − h(k + 1)) P_cp(r_t = k) and
/// P_am(r_t = 0) = Σ_k h(k + 1) P_cp(r_t = k).</remarks>
public enum RunLengthRecursion
{
    /// <summary>
    /// Changepoint-at-t form (spec <c>"changepoint"</c>): x_1 starts a run, r_t = (observations in the current run
    /// including x_t) − 1, so P(r_t = 0 | x_{1:t}) is the probability that x_t begins a new segment.
    /// </summary>
    Changepoint,

    /// <summary>
    /// Adams &amp; MacKay's Algorithm 1 verbatim (spec <c>"adams-mackay"</c>): P(r_0 = 0) = 1 and r_t counts the
    /// observations of the run that continues after x_t; P(r_t = 0 | x_{1:t}) is the hazard-weighted chance that a
    /// new run starts after x_t (exactly the hazard when it is constant).
    /// </summary>
    AdamsMacKay,
}
