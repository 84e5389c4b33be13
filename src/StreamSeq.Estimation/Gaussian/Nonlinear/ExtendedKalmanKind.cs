using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Adaptive;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The <c>extended-kalman</c> spec kind: an extended Kalman filter over a built-in nonlinear <c>model</c>
/// (see <see cref="NonlinearModelSpec"/>), with <c>"jacobians": "model"</c> (default: analytic) or
/// <c>"finite-differences"</c>. With <c>"adapt": ["model.observationNoise"]</c> every stream learns its observation
/// noise online (<see cref="AdaptiveNonlinearFilter"/>).
/// </summary>
/// <example>
/// <code>{"name":"swing","kind":"extended-kalman","model":{"type":"pendulum","dt":0.01,"g":9.81,"qc":0.1,
///  "observationNoise":0.01,"initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]}}</code>
/// </example>
public sealed class ExtendedKalmanKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "extended-kalman";

    /// <inheritdoc />
    public string Description => "Extended Kalman filter (analytic or finite-difference Jacobians) over a pendulum, growth or linear model.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("jacobians").Nest(NonlinearModelSpec.Field, NonlinearModelSpec.Shape).With(AdaptationSettings.SpecFields);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = NonlinearModelSpec.Read(spec);
        var jacobians = spec.OptionalString("jacobians") switch
        {
            null or "model" => JacobianSource.Model,
            "finite-differences" => JacobianSource.FiniteDifferences,
            var other => throw spec.Error("jacobians", $"must be \"model\" or \"finite-differences\", got \"{other}\"."),
        };
        return AdaptiveNonlinearFilter.Wrap(spec, new ExtendedKalmanFilter(model, jacobians));
    }
}
