using System.Buffers;
using System.Text;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Anomaly;

namespace StreamSeq.Processing.Models;

/// <summary>
/// A configured model: its spec, the estimator built from it (wrapped by the fixed-lag smoother when a lag is set),
/// and the processing settings that go with it (forecast horizon, anomaly rules, alert gate).
/// Immutable and shared by every stream and thread that uses the model.
/// </summary>
public sealed class ModelBinding
{
    private const ulong Offset = 14695981039346656037UL;

    private const ulong Prime = 1099511628211UL;

    /// <summary>Builds a binding; throws <see cref="ModelValidationException"/> for an invalid spec or setting.</summary>
    public ModelBinding(ModelSpec spec, int lag = 0, int horizon = 0, IReadOnlyList<AnomalyRule>? rules = null, AlertGateOptions? gate = null)
        : this(spec, lag, horizon, rules, gate, wrap: null)
    {
    }

    /// <summary>A binding whose built estimator is passed through <paramref name="wrap"/> before smoothing wraps it (tests use it to put a model that fails in place).</summary>
    internal ModelBinding(ModelSpec spec, int lag, int horizon, IReadOnlyList<AnomalyRule>? rules, AlertGateOptions? gate, Func<IEstimator, IEstimator>? wrap)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (lag < 0)
        {
            throw new ModelValidationException("lag", $"must be 0 (no smoothing) or positive, got {lag}.");
        }

        if (horizon < 0)
        {
            throw new ModelValidationException("horizon", $"must be 0 (no forecasts) or positive, got {horizon}.");
        }

        Spec = spec;
        Lag = lag;
        Horizon = horizon;
        var inner = ModelCatalog.Build(spec, out var files);
        inner = wrap?.Invoke(inner) ?? inner;
        Estimator = lag > 0 ? new FixedLagSmoother(inner, lag) : inner;
        Rules = rules ?? [];
        Gate = gate ?? new AlertGateOptions();
        RuleExtraOffsets = [.. Rules.Select(r => r.Extra is null ? -1 : Estimator.Info.ExtraOffset(r.Extra))];
        for (var i = 0; i < Rules.Count; i++)
        {
            if (Rules[i].Type == AnomalyRuleType.Extra && RuleExtraOffsets[i] < 0)
            {
                throw new ModelValidationException(
                    $"anomalyRules[{i}].extra",
                    $"model '{spec.Name}' ({Estimator.Info.Family}) has no extra '{Rules[i].Extra}' (it has: {string.Join(", ", Estimator.Info.Extras.Select(e => e.Name).DefaultIfEmpty("none"))}).");
            }
        }

        UnitMilliseconds = spec.TimeUnit.TotalMilliseconds;
        Files = files;
        (Fingerprint, FormerFingerprint) = ComputeFingerprints(spec.Json, lag, files);
    }

    /// <summary>The files the spec refers to (recurrent weights, ONNX graphs), as full paths.</summary>
    public IReadOnlyList<string> Files { get; }

    /// <summary>The model spec.</summary>
    public ModelSpec Spec { get; }

    /// <summary>The model name.</summary>
    public string Name => Spec.Name;

    /// <summary>The estimator every stream of this model steps.</summary>
    public IEstimator Estimator { get; }

    /// <summary>Fixed-lag smoothing lag (0 = none).</summary>
    public int Lag { get; }

    /// <summary>Forecast horizons emitted after each observation (0 = none).</summary>
    public int Horizon { get; }

    /// <summary>Anomaly rules.</summary>
    public IReadOnlyList<AnomalyRule> Rules { get; }

    /// <summary>Offsets of the rules' extras in the estimate (-1 when not an extra rule).</summary>
    internal int[] RuleExtraOffsets { get; }

    /// <summary>Alert gate settings.</summary>
    public AlertGateOptions Gate { get; }

    /// <summary>The model time unit in milliseconds.</summary>
    public double UnitMilliseconds { get; }

    /// <summary>
    /// A hash of what a stream's state depends on: the spec without the fields the estimator ignores
    /// (<c>description</c>, <c>anomalyRules</c>, <c>alertGate</c>, <c>fit</c>; see <see cref="StateIndependentFields"/>),
    /// whatever its layout, the lag, and the contents of the files the spec refers to (so retrained weights under an
    /// unchanged spec count as a new model). A restored state built under another fingerprint is discarded; so editing a
    /// description or tuning an anomaly threshold keeps every stream's state, while any other change starts the
    /// model's streams again from the prior.
    /// </summary>
    public ulong Fingerprint { get; }

    /// <summary>
    /// The fingerprint earlier builds wrote: a hash of the spec's text exactly as written (every field, whitespace
    /// included), the lag and the files. A state carrying it is still this model's when that text is unchanged.
    /// </summary>
    internal ulong FormerFingerprint { get; }

    /// <summary>Top-level spec fields no estimator reads, which therefore leave the fingerprint as it is.</summary>
    internal static IReadOnlyList<string> StateIndependentFields { get; } = ["description", "anomalyRules", "alertGate", "fit"];

    /// <summary>Whether a state written under <paramref name="fingerprint"/> belongs to this model as configured now.</summary>
    internal bool Accepts(ulong fingerprint) => fingerprint == Fingerprint || fingerprint == FormerFingerprint;

    private static (ulong Current, ulong Former) ComputeFingerprints(JsonElement spec, int lag, IReadOnlyList<string> files)
    {
        var current = Fold(Offset, StateDefiningText(spec));
        var former = Fold(Offset, spec.GetRawText());
        foreach (var file in files)
        {
            if (File.Exists(file))
            {
                foreach (var b in File.ReadAllBytes(file))
                {
                    current = (current ^ b) * Prime;
                    former = (former ^ b) * Prime;
                }
            }
        }

        return ((current ^ (ulong)lag) * Prime, (former ^ (ulong)lag) * Prime);
    }

    private static ulong Fold(ulong h, string text)
    {
        foreach (var c in text)
        {
            h = (h ^ c) * Prime;
        }

        return h;
    }

    /// <summary>The spec as compact JSON without <see cref="StateIndependentFields"/> (a spec that is not an object as it is).</summary>
    private static string StateDefiningText(JsonElement spec)
    {
        if (spec.ValueKind != JsonValueKind.Object)
        {
            return spec.GetRawText();
        }

        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var property in spec.EnumerateObject())
            {
                if (!StateIndependentFields.Contains(property.Name, StringComparer.Ordinal))
                {
                    property.WriteTo(writer);
                }
            }

            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
