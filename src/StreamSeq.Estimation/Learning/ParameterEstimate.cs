namespace StreamSeq.Estimation.Learning;

/// <summary>One fitted number with its standard error.</summary>
/// <param name="Name">Spec path of the number, for example <c>observationNoise[0][0]</c>.</param>
/// <param name="Estimate">The fitted value, on the spec's (natural) scale.</param>
/// <param name="StandardError">Its standard error on the natural scale (delta method from the optimiser's scale);
/// NaN when unavailable (see <see cref="FitDiagnostics.StandardErrorNote"/>).</param>
public sealed record ParameterEstimate(string Name, double Estimate, double StandardError);
