using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Gaussian.Adaptive;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// The <c>unscented-kalman</c> spec kind: an unscented Kalman filter over a built-in nonlinear <c>model</c>
/// (see <see cref="NonlinearModelSpec"/>), with <c>sigmaPoints</c> and <c>robust</c> (default true). With
/// <c>"adapt": ["model.observationNoise"]</c> every stream learns its observation noise online
/// (<see cref="AdaptiveNonlinearFilter"/>).
/// </summary>
/// <remarks>
/// <c>sigmaPoints</c>: <c>{"scheme":"merwe","alpha":1,"beta":2,"kappa":0}</c> (these are the defaults) or
/// <c>{"scheme":"julier","kappa":k}</c> (default κ = 3 − n; κ = 0 is the cubature rule). See <see cref="SigmaPoints"/>.
/// </remarks>
/// <example>
/// <code>{"name":"swing","kind":"unscented-kalman","model":{"type":"pendulum","dt":0.01,"g":9.81,"qc":0.1,
///  "observationNoise":0.01,"initialMean":[1,0],"initialCovariance":[[0.01,0],[0,0.04]]},
///  "sigmaPoints":{"scheme":"merwe","alpha":1e-3,"beta":2,"kappa":0}}</code>
/// </example>
public sealed class UnscentedKalmanKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "unscented-kalman";

    /// <inheritdoc />
    public string Description => "Unscented Kalman filter (Merwe or Julier sigma points, unscented RTS smoothing) over a pendulum, growth or linear model.";

    /// <summary>The <c>sigmaPoints</c> object.</summary>
    public static SpecShape SigmaPointsShape { get; } = SpecShape.Of().WithVariants(
        "scheme",
        "merwe",
        ("merwe", SpecShape.Of("alpha", "beta", "kappa")),
        ("julier", SpecShape.Of("kappa")));

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("robust")
        .Nest(NonlinearModelSpec.Field, NonlinearModelSpec.Shape)
        .Nest("sigmaPoints", SigmaPointsShape)
        .With(AdaptationSettings.SpecFields);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var model = NonlinearModelSpec.Read(spec);
        var points = ReadSigmaPoints(spec.OptionalObject("sigmaPoints"), model.StateDimension);
        return AdaptiveNonlinearFilter.Wrap(spec, new UnscentedKalmanFilter(model, points, spec.Boolean("robust", true)));
    }

    /// <summary>Reads an optional <c>sigmaPoints</c> object (default Merwe α = 1, β = 2, κ = 0).</summary>
    internal static SigmaPoints ReadSigmaPoints(SpecReader? spec, int stateDimension)
    {
        if (spec is null)
        {
            return SigmaPoints.Merwe();
        }

        var scheme = spec.OptionalString("scheme") ?? "merwe";
        var points = scheme switch
        {
            "merwe" => SigmaPoints.Merwe(spec.Number("alpha", 1.0), spec.Number("beta", 2.0), spec.Number("kappa", 0.0)),
            "julier" => SigmaPoints.Julier(spec.Number("kappa", 3.0 - stateDimension)),
            _ => throw spec.Error("scheme", $"must be \"merwe\" or \"julier\", got \"{scheme}\"."),
        };
        points.ValidateFor(stateDimension);
        return points;
    }
}
