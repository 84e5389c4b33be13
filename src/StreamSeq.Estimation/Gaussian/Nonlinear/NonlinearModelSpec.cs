using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Nonlinear;

/// <summary>
/// Reads the <c>model</c> object of the <c>extended-kalman</c> and <c>unscented-kalman</c> kinds:
/// <c>{"type":"pendulum"|"growth"|"linear", ...}</c>, every error naming its path (for example <c>model.dt</c>).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>pendulum</c>: <c>dt</c>, <c>g</c> (default 9.81), <c>qc</c>, <c>observationNoise</c> (a variance),
/// <c>initialMean</c> (2), <c>initialCovariance</c> (2×2).</item>
/// <item><c>growth</c>: <c>transitionNoise</c> and <c>observationNoise</c> (variances), <c>initialMean</c> (1),
/// <c>initialCovariance</c> (1×1).</item>
/// <item><c>linear</c>: the fields of the <c>linear-gaussian</c> kind (explicit matrices or continuous-time
/// components), without exact diffuse initialisation.</item>
/// </list>
/// Every type also accepts <c>priorAtTimeZero</c> (default false): the prior is then of a time-zero state and the
/// filter predicts once before the first update.
/// </remarks>
internal static class NonlinearModelSpec
{
    public const string Field = "model";

    /// <summary>The <c>model</c> object: its type's fields plus <c>priorAtTimeZero</c>.</summary>
    public static SpecShape Shape { get; } = SpecShape.Of("priorAtTimeZero").WithVariants(
        "type",
        null,
        ("pendulum", SpecShape.Of("dt", "g", "qc", "observationNoise", "initialMean", "initialCovariance")),
        ("growth", SpecShape.Of("transitionNoise", "observationNoise", "initialMean", "initialCovariance")),
        ("linear", LinearGaussianKind.ModelShape));

    public static NonlinearGaussianModel Read(SpecReader spec)
    {
        var model = spec.Object(Field);
        try
        {
            return ReadModel(model);
        }
        catch (ModelValidationException e) when (e.Field != model.Path && !e.Field.StartsWith(model.Path + ".", StringComparison.Ordinal))
        {
            throw e.WithPrefix(model.Path);
        }
    }

    private static NonlinearGaussianModel ReadModel(SpecReader model)
    {
        var type = model.String("type");
        var priorAtTimeZero = model.Boolean("priorAtTimeZero", false);
        switch (type)
        {
            case "pendulum":
                return NonlinearModels.Pendulum(
                    model.Number("dt"),
                    model.Number("g", 9.81),
                    model.Number("qc"),
                    model.Number("observationNoise"),
                    model.Vector("initialMean", 2),
                    model.Matrix("initialCovariance", 2, 2).Values,
                    priorAtTimeZero);
            case "growth":
                return NonlinearModels.Growth(
                    model.Number("transitionNoise"),
                    model.Number("observationNoise"),
                    model.Vector("initialMean", 1),
                    model.Matrix("initialCovariance", 1, 1).Values,
                    priorAtTimeZero);
            case "linear":
                return NonlinearModels.FromLinear(LinearGaussianKind.BuildModel(model), priorAtTimeZero);
            default:
                throw model.Error("type", $"unknown model type '{type}' (known: pendulum, growth, linear).");
        }
    }
}
