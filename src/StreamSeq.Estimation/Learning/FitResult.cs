using System.Text.Json.Nodes;

namespace StreamSeq.Estimation.Learning;

/// <summary>The outcome of fitting a model: the spec with fitted values and how the fit went.</summary>
/// <param name="Spec">The full model spec with the fitted parameter values written in.</param>
/// <param name="LogLikelihood">The maximised log-likelihood (sum over all sequences).</param>
/// <param name="Iterations">Optimiser or EM iterations used.</param>
/// <param name="Converged">True when the stopping rule was met before the iteration limit (for <c>mle</c>: and the
/// optimum is a maximum the data identify, see <see cref="FitDiagnostics.IdentifiedMaximum"/>).</param>
/// <param name="Method">The method used, for example <c>mle</c> or <c>em</c>.</param>
public sealed record FitResult(JsonObject Spec, double LogLikelihood, int Iterations, bool Converged, string Method)
{
    /// <summary>Stopping reason, standard errors and identification warnings (null when not computed).</summary>
    public FitDiagnostics? Diagnostics { get; init; }
}
