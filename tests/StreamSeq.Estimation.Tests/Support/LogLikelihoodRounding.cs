using MathNet.Numerics.LinearAlgebra;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian;

namespace StreamSeq.Estimation.Tests.Support;

/// <summary>
/// A first-order bound on the rounding error of a double-precision Kalman filter's log-likelihood, so that two
/// evaluations of one model by different but equally valid kernels can be compared at the precision the model
/// allows instead of at a fixed relative tolerance.
/// </summary>
/// <remarks>
/// Per observed step, log p = −½ (k log 2π + log|S| + v' S⁻¹ v), so a perturbation δS of the innovation covariance
/// moves it by ½ |tr(S⁻¹ δS) − z' δS z| ≤ ½ (k + NIS) ‖S⁻¹‖₂ ‖δS‖₂ (z = S⁻¹ v, NIS = v' S⁻¹ v). Forming
/// S = H_o P⁻ H_o' + R rounds by at most 2 n ε |H_o| |P⁻| |H_o|' entrywise (two products of length n), and P⁻ itself
/// carries rounding of the same order from the recursion, so ‖δS‖₂ ≤ 4 n ε ‖|H_o| |P⁻| |H_o|'‖∞ to first order. The
/// bound is the sum over steps; it is large exactly when P⁻ holds variances far above what the observations
/// resolve, which is where the terms of H P⁻ H' cancel.
/// </remarks>
internal static class LogLikelihoodRounding
{
    /// <summary>Unit roundoff of double precision, 2^-53.</summary>
    private const double Epsilon = 1.1102230246251565e-16;

    public static double Bound(KalmanFilter filter, IReadOnlyList<ObservationSeries> sequences)
    {
        var model = filter.Model;
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var h = model.Observation.ToArray();
        var state = new double[filter.Info.StateLength];
        var estimate = new Estimate(filter.Info);
        var total = 0.0;
        foreach (var series in sequences)
        {
            filter.Initialize(state, 0);
            for (var t = 0; t < series.Length; t++)
            {
                filter.Step(state, series.At(t), estimate, default);
                var y = series.At(t).Values.ToArray();
                var observed = Enumerable.Range(0, m).Where(i => double.IsFinite(y[i])).ToArray();
                if (observed.Length == 0 || !double.IsFinite(estimate.LogLikelihood))
                {
                    continue;
                }

                var k = observed.Length;
                var magnitude = Matrix<double>.Build.Dense(k, k, (a, b) =>
                {
                    var acc = 0.0;
                    for (var i = 0; i < n; i++)
                    {
                        for (var j = 0; j < n; j++)
                        {
                            acc += Math.Abs(h[(observed[a] * n) + i] * estimate.PredictedCovariance[(i * n) + j] * h[(observed[b] * n) + j]);
                        }
                    }

                    return acc;
                });
                var s = Matrix<double>.Build.Dense(k, k, (a, b) => estimate.ObservationCovariance[(observed[a] * m) + observed[b]]);
                var smallest = s.Evd(Symmetricity.Symmetric).EigenValues.Min(e => e.Real);
                total += 0.5 * (k + estimate.NormalizedInnovationSquared) * 4 * n * Epsilon * magnitude.InfinityNorm() / smallest;
            }
        }

        return total;
    }
}
