using StreamSeq.Estimation.Abstractions;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// A nonlinear Gaussian filter that can step and forecast with a stream's own observation noise R instead of the
/// model's, and give the expected squared residuals E[(y_i − h_i(x))²] under its filtered state (what variational-Bayes
/// learning of R needs; see <see cref="Adaptive.AdaptiveNonlinearFilter"/>).
/// </summary>
internal interface IObservationNoiseOverride : IEstimator, IBackwardStep
{
    /// <summary>The model.</summary>
    NonlinearGaussianModel Model { get; }

    /// <summary><see cref="IEstimator.Step"/> with R (m×m) in place of the model's.</summary>
    void StepWithNoise(Span<double> state, in Observation observation, Estimate estimate, Span<double> backwardRecord, ReadOnlySpan<double> r);

    /// <summary><see cref="IEstimator.Forecast"/> with R (m×m) in place of the model's.</summary>
    void ForecastWithNoise(ReadOnlySpan<double> state, double stepGap, Forecast forecast, ReadOnlySpan<double> r);

    /// <summary>E[(y_i − h_i(x))²] for every component under the filtered state, in the filter's own approximation.</summary>
    void ExpectedSquaredResiduals(ReadOnlySpan<double> state, ReadOnlySpan<double> y, Span<double> squares);
}
