using System.Globalization;
using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Anomaly;

namespace StreamSeq.Processing.Models;

/// <summary>
/// Builds a <see cref="ModelBinding"/> from a spec, reading its optional <c>anomalyRules</c> and <c>alertGate</c>
/// sections, so the CLI and the worker configure alerts the same way.
/// </summary>
/// <remarks>
/// <c>"anomalyRules": [{"name": "surprise", "type": "chi-square", "threshold": 0.001, "clearThreshold": 0.1},
/// {"type": "extra", "extra": "changepointProbability", "threshold": 0.5}]</c> with types <c>chi-square</c>
/// (threshold = tail probability), <c>nis</c>, <c>log-likelihood</c> and <c>extra</c>;
/// <c>"alertGate": {"hysteresis": true, "minInterval": 0, "maxAlertsPerWindow": 0, "rateWindow": 1}</c> in model
/// time units.
/// </remarks>
public static class ModelBindingFactory
{
    /// <summary>Builds the binding.</summary>
    public static ModelBinding FromSpec(ModelSpec spec, int lag = 0, int horizon = 0)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var reader = new SpecReader(spec.Json);
        var rules = new List<AnomalyRule>();
        if (reader.Has("anomalyRules"))
        {
            var maxDim = 64;
            foreach (var r in reader.Objects("anomalyRules"))
            {
                var type = r.String("type");
                var ruleType = type switch
                {
                    "chi-square" => AnomalyRuleType.ChiSquare,
                    "nis" => AnomalyRuleType.Nis,
                    "log-likelihood" => AnomalyRuleType.LogLikelihood,
                    "extra" => AnomalyRuleType.Extra,
                    _ => throw r.Error("type", $"unknown rule type '{type}' (known: chi-square, nis, log-likelihood, extra)."),
                };
                var extra = r.OptionalString("extra");
                var name = r.OptionalString("name") ?? extra ?? type;
                var threshold = r.Number("threshold");
                double? clear = r.Has("clearThreshold") ? r.Number("clearThreshold") : null;
                try
                {
                    rules.Add(new AnomalyRule(name, ruleType, threshold, clear, extra, maxDim));
                }
                catch (ModelValidationException e)
                {
                    throw e.WithPrefix(r.Path);
                }

                r.EnsureAllFieldsKnown();
            }
        }

        AlertGateOptions? gate = null;
        if (reader.OptionalObject("alertGate") is { } g)
        {
            gate = new AlertGateOptions
            {
                Hysteresis = g.Boolean("hysteresis", true),
                MinInterval = g.Number("minInterval", 0.0),
                MaxAlertsPerWindow = g.Integer("maxAlertsPerWindow", 0),
                RateWindow = g.Number("rateWindow", 1.0),
            };
            if (gate.RateWindow <= 0)
            {
                throw g.Error("rateWindow", "must be positive.");
            }

            if (gate.MinInterval < 0)
            {
                throw g.Error("minInterval", $"must be at least 0, got {gate.MinInterval.ToString(CultureInfo.InvariantCulture)}.");
            }

            if (gate.MaxAlertsPerWindow < 0)
            {
                throw g.Error("maxAlertsPerWindow", $"must be at least 0 (0 = unlimited), got {gate.MaxAlertsPerWindow.ToString(CultureInfo.InvariantCulture)}.");
            }

            g.EnsureAllFieldsKnown();
        }

        return new ModelBinding(spec, lag, horizon, rules, gate);
    }

    /// <summary>Parses a spec file and builds its binding.</summary>
    public static ModelBinding Load(string path, int lag = 0, int horizon = 0) => FromSpec(ModelSpec.Load(path), lag, horizon);

    /// <summary>Builds bindings from a JSON array of specs (or a single spec object).</summary>
    public static IReadOnlyList<ModelBinding> FromJsonArray(JsonElement element, int lag = 0, int horizon = 0)
    {
        if (element.ValueKind == JsonValueKind.Object)
        {
            return [FromSpec(ModelSpec.FromElement(element), lag, horizon)];
        }

        var list = new List<ModelBinding>();
        var i = 0;
        foreach (var item in element.EnumerateArray())
        {
            try
            {
                list.Add(FromSpec(ModelSpec.FromElement(item), lag, horizon));
            }
            catch (ModelValidationException e)
            {
                throw e.WithPrefix($"models[{i}]");
            }

            i++;
        }

        return list;
    }
}
