using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// Which noise parameters of a linear Gaussian model every stream learns, and how Q(Δt) and R depend on them:
/// Q(Δt) = Q_fixed(Δt) + Σ_j θ_j B_j(Δt) and R = diag(r_1, …, r_m) for learned observation noise.
/// </summary>
/// <remarks>
/// <para>Every preset's transition noise is linear in its rates, so B_j(Δt) is the component's Q over the gap with
/// rate j set to 1 and every other noise set to 0, and Q_fixed(Δt) the model's Q with the learned rates set to 0: the
/// gap dependence of continuous-time presets carries over exactly. An Ornstein–Uhlenbeck <c>volatility</c> σ enters
/// as σ², so its rate is σ². An explicit diagonal <c>transitionNoise</c> learns each positive diagonal entry (zero
/// entries stay zero); a non-diagonal one learns one scale θ of the spec's matrix.</para>
/// <para>Learned observation noise must be diagonal: each variance is learned on its own.</para>
/// </remarks>
internal sealed partial class LinearNoiseParameters
{
    private static readonly (string Type, string Field, int Power)[] RateFields =
    [
        ("local-level", "levelNoise", 1),
        ("local-linear-trend", "levelNoise", 1),
        ("local-linear-trend", "slopeNoise", 1),
        ("constant-velocity", "accelerationNoise", 1),
        ("constant-acceleration", "jerkNoise", 1),
        ("ornstein-uhlenbeck", "volatility", 2),
        ("trigonometric-seasonal", "seasonalNoise", 1),
    ];

    private readonly Entry[] entries;
    private readonly OutputKind[] outputKind;
    private readonly int[] outputIndex;
    private readonly double[] outputPower;
    private readonly double[] outputMultiplier;

    private LinearNoiseParameters(LinearGaussianModel model, ILinearDynamics fixedDynamics, List<Rate> rates, ObservationMode[] modes, Entry[] entries)
    {
        Model = model;
        FixedDynamics = fixedDynamics;
        StateDimension = model.StateDimension;
        ObservationDimension = model.ObservationDimension;
        Bases = [.. rates.Select(r => r.Basis)];
        RateStart = [.. rates.Select(r => r.Start)];
        RatePower = [.. rates.Select(r => r.Power)];
        Modes = modes;
        this.entries = entries;
        ObservationSlot = new int[modes.Length];
        var rml = rates.Count;
        var vb = 0;
        for (var i = 0; i < modes.Length; i++)
        {
            ObservationSlot[i] = modes[i] switch
            {
                ObservationMode.RecursiveMaximumLikelihood => rml++,
                ObservationMode.VariationalBayes => vb++,
                _ => -1,
            };
        }

        RecursiveCount = rml;
        VariationalCount = vb;
        Parameters = [.. entries.Select(e => e.Descriptor)];
        var length = Parameters.Sum(q => q.Length);
        outputKind = new OutputKind[length];
        outputIndex = new int[length];
        outputPower = new double[length];
        outputMultiplier = new double[length];
        var offset = 0;
        foreach (var e in entries)
        {
            Map(e, offset);
            offset += e.Descriptor.Length;
        }
    }

    /// <summary>What each output value is made of (see <see cref="Write"/>).</summary>
    private enum OutputKind
    {
        Zero,
        Recursive,
        Variational,
    }

    /// <summary>How a component of the observation noise is treated.</summary>
    public enum ObservationMode
    {
        /// <summary>The model's value, not learned.</summary>
        Fixed,

        /// <summary>Learned by recursive maximum likelihood on log r_i.</summary>
        RecursiveMaximumLikelihood,

        /// <summary>Learned by variational Bayes (inverse-gamma).</summary>
        VariationalBayes,
    }

    /// <summary>The model with the spec's values.</summary>
    public LinearGaussianModel Model { get; }

    /// <summary>n.</summary>
    public int StateDimension { get; }

    /// <summary>m.</summary>
    public int ObservationDimension { get; }

    /// <summary>F(Δt), c(Δt) and Q_fixed(Δt): the model's dynamics with the learned rates at 0.</summary>
    public ILinearDynamics FixedDynamics { get; }

    /// <summary>B_j(Δt): the transition noise of rate j alone at 1 (only its Q is used).</summary>
    public ILinearDynamics[] Bases { get; }

    /// <summary>θ_j at the start (in rate units: σ² for a volatility).</summary>
    public double[] RateStart { get; }

    /// <summary>The spec field is θ^(1/power).</summary>
    public double[] RatePower { get; }

    /// <summary>Per observed component.</summary>
    public ObservationMode[] Modes { get; }

    /// <summary>Per observed component: its index among the recursive-ML parameters (after the rates) or the
    /// variational ones, −1 when fixed.</summary>
    public int[] ObservationSlot { get; }

    /// <summary>Number of rates (the first recursive-ML parameters).</summary>
    public int RateCount => Bases.Length;

    /// <summary>Parameters learned by recursive maximum likelihood: the rates, then the observation variances so learned.</summary>
    public int RecursiveCount { get; }

    /// <summary>Observation variances learned by variational Bayes.</summary>
    public int VariationalCount { get; }

    /// <summary>What records and tables show, in <c>adapt</c> order.</summary>
    public IReadOnlyList<LearnedParameter> Parameters { get; }

    /// <summary>Reads <c>adapt</c> for a <c>linear-gaussian</c> spec whose model is <paramref name="model"/>.</summary>
    public static LinearNoiseParameters Create(SpecReader spec, LinearGaussianModel model, IReadOnlyList<string> names, AdaptationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(settings);
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        var root = JsonNode.Parse(spec.Element.GetRawText())!.AsObject();
        var matrices = root.ContainsKey("transition");
        var learnable = Learnable(root, matrices);
        if (names.Count == 0)
        {
            throw spec.Error("adapt", $"names no parameter; list those each stream learns (learnable here: {string.Join(", ", learnable)}).");
        }

        var rates = new List<Rate>();
        var modes = new ObservationMode[m];
        var entries = new List<Entry>();
        var zeroed = JsonNode.Parse(root.ToJsonString())!.AsObject();
        ZeroNoise(zeroed, matrices, n);
        var fixedPart = JsonNode.Parse(root.ToJsonString())!.AsObject();
        for (var k = 0; k < names.Count; k++)
        {
            var name = names[k];
            var field = $"adapt[{k}]";
            if (names.Take(k).Contains(name, StringComparer.Ordinal))
            {
                throw new ModelValidationException(field, $"'{name}' is listed twice.");
            }

            if (!learnable.Contains(name, StringComparer.Ordinal))
            {
                throw new ModelValidationException(field, $"'{name}' cannot be learned online (learnable here: {string.Join(", ", learnable)}).");
            }

            if (name == "observationNoise")
            {
                entries.Add(ObservationEntry(field, model, modes, settings));
            }
            else if (name == "transitionNoise")
            {
                entries.Add(TransitionEntry(field, root, zeroed, fixedPart, rates, n));
            }
            else
            {
                entries.Add(ComponentEntry(field, name, root, zeroed, fixedPart, rates));
            }
        }

        var usesVariational = modes.Any(mode => mode == ObservationMode.VariationalBayes);
        var given = spec.Element.TryGetProperty("adaptation", out var a) && a.ValueKind == JsonValueKind.Object ? a : default;
        if (settings.ObservationNoise == NoiseLearningMethod.VariationalBayes && !names.Contains("observationNoise"))
        {
            throw spec.Error("adaptation.observationNoise", "names the method for observation noise, but observationNoise is not in adapt.");
        }

        if (!usesVariational && given.ValueKind == JsonValueKind.Object && given.TryGetProperty("iterations", out _))
        {
            throw spec.Error("adaptation.iterations", "applies to variational-bayes learning of observationNoise, which this spec does not use.");
        }

        if (rates.Count == 0 && !modes.Any(mode => mode == ObservationMode.RecursiveMaximumLikelihood) && given.ValueKind == JsonValueKind.Object && given.TryGetProperty("maxStep", out _))
        {
            throw spec.Error("adaptation.maxStep", "applies to recursive-ml learning, which this spec does not use.");
        }

        return new LinearNoiseParameters(model, Dynamics(fixedPart), rates, modes, [.. entries]);
    }

    /// <summary>Writes the start of a stream's learned values: θ_j and r_i for recursive ML (held as values; the method
    /// works on their logarithms), and the inverse-gamma shape α = w/2 and scale β = α r_i for variational Bayes.</summary>
    /// <param name="held">The recursive-ML values.</param>
    /// <param name="shapes">α per variational component.</param>
    /// <param name="scales">β per variational component.</param>
    /// <param name="priorWeight">w, in readings.</param>
    public void Start(Span<double> held, Span<double> shapes, Span<double> scales, double priorWeight)
    {
        for (var j = 0; j < RateCount; j++)
        {
            held[j] = RateStart[j];
        }

        var r = Model.ObservationNoise;
        var m = ObservationDimension;
        for (var i = 0; i < m; i++)
        {
            var slot = ObservationSlot[i];
            switch (Modes[i])
            {
                case ObservationMode.RecursiveMaximumLikelihood:
                    held[slot] = r[(i * m) + i];
                    break;
                case ObservationMode.VariationalBayes:
                    shapes[slot] = 0.5 * priorWeight;
                    scales[slot] = shapes[slot] * r[(i * m) + i];
                    break;
            }
        }
    }

    /// <summary>
    /// Writes the learned values in the shapes of their spec fields, and their standard deviations: for recursive ML
    /// exp(φ/k)·c with sd |exp(φ/k)·c|·sd(φ)/k (the delta method, sd(φ) from the discounted information; k = 2 for a
    /// volatility, c the shape of a scaled matrix), for variational Bayes β/α with the inverse-gamma posterior's sd
    /// β/((α − 1)√(α − 2)) (NaN for α ≤ 2).
    /// </summary>
    public void Write(ReadOnlySpan<double> held, ReadOnlySpan<double> logDeviations, ReadOnlySpan<double> shapes, ReadOnlySpan<double> scales, Span<double> values, Span<double> deviations)
    {
        var kinds = outputKind;
        for (var o = 0; o < kinds.Length; o++)
        {
            var index = outputIndex[o];
            switch (kinds[o])
            {
                case OutputKind.Recursive:
                    {
                        var power = outputPower[o];
                        var rate = held[index];
                        var value = (power == 2.0 ? Math.Sqrt(rate) : rate) * outputMultiplier[o];
                        values[o] = value;
                        deviations[o] = Math.Abs(value) * logDeviations[index] / power;
                        break;
                    }

                case OutputKind.Variational:
                    {
                        var alpha = shapes[index];
                        var beta = scales[index];
                        values[o] = beta / alpha;
                        deviations[o] = alpha > 2.0 ? beta / ((alpha - 1.0) * Math.Sqrt(alpha - 2.0)) : double.NaN;
                        break;
                    }

                default:
                    values[o] = 0.0;
                    deviations[o] = 0.0;
                    break;
            }
        }
    }

    private void Map(Entry e, int offset)
    {
        void Set(int at, OutputKind kind, int index, double power, double multiplier)
        {
            outputKind[offset + at] = kind;
            outputIndex[offset + at] = index;
            outputPower[offset + at] = power;
            outputMultiplier[offset + at] = multiplier;
        }

        switch (e.Kind)
        {
            case EntryKind.ObservationNoise:
                var m = ObservationDimension;
                for (var i = 0; i < m; i++)
                {
                    var variational = Modes[i] == ObservationMode.VariationalBayes;
                    Set((i * m) + i, variational ? OutputKind.Variational : OutputKind.Recursive, ObservationSlot[i], 1.0, 1.0);
                }

                break;
            case EntryKind.Rate:
                Set(0, OutputKind.Recursive, e.Rates[0], RatePower[e.Rates[0]], 1.0);
                break;
            case EntryKind.TransitionDiagonal:
                var n = StateDimension;
                for (var a = 0; a < e.Rates.Length; a++)
                {
                    Set((e.Indices[a] * n) + e.Indices[a], OutputKind.Recursive, e.Rates[a], 1.0, 1.0);
                }

                break;
            case EntryKind.TransitionScale:
                for (var i = 0; i < e.Shape!.Length; i++)
                {
                    if (e.Shape[i] != 0.0)
                    {
                        Set(i, OutputKind.Recursive, e.Rates[0], 1.0, e.Shape[i]);
                    }
                }

                break;
        }
    }

    /// <summary>The current value of r_i (learned or the model's).</summary>
    public double ObservationVariance(int i, ReadOnlySpan<double> held, ReadOnlySpan<double> shapes, ReadOnlySpan<double> scales) => Modes[i] switch
    {
        ObservationMode.RecursiveMaximumLikelihood => held[ObservationSlot[i]],
        ObservationMode.VariationalBayes => scales[ObservationSlot[i]] / shapes[ObservationSlot[i]],
        _ => Model.ObservationNoise[(i * ObservationDimension) + i],
    };

    /// <summary>Replaces the start values by <paramref name="values"/> (laid out as <see cref="Parameters"/>); the
    /// variational prior keeps its weight.</summary>
    public void StartFrom(ReadOnlySpan<double> values, Span<double> held, Span<double> shapes, Span<double> scales)
    {
        var offset = 0;
        var m = ObservationDimension;
        foreach (var e in entries)
        {
            var length = e.Descriptor.Length;
            var v = values.Slice(offset, length);
            var name = e.Descriptor.Name;
            switch (e.Kind)
            {
                case EntryKind.ObservationNoise:
                    RequireDiagonal(name, v, m);
                    for (var i = 0; i < m; i++)
                    {
                        var value = Positive($"{name}[{i}][{i}]", v[(i * m) + i]);
                        var slot = ObservationSlot[i];
                        if (Modes[i] == ObservationMode.RecursiveMaximumLikelihood)
                        {
                            held[slot] = value;
                        }
                        else
                        {
                            scales[slot] = shapes[slot] * value;
                        }
                    }

                    break;
                case EntryKind.Rate:
                    held[e.Rates[0]] = Math.Pow(Positive(name, v[0]), RatePower[e.Rates[0]]);
                    break;
                case EntryKind.TransitionDiagonal:
                    {
                        var n = StateDimension;
                        RequireDiagonal(name, v, n);
                        for (var a = 0; a < e.Rates.Length; a++)
                        {
                            var i = e.Indices[a];
                            held[e.Rates[a]] = Positive($"{name}[{i}][{i}]", v[(i * n) + i]);
                        }

                        for (var i = 0; i < n; i++)
                        {
                            if (!e.Indices.Contains(i) && v[(i * n) + i] != 0.0)
                            {
                                throw new ModelValidationException($"{name}[{i}][{i}]", "is zero in the spec and is not learned, so it must stay 0.");
                            }
                        }

                        break;
                    }

                case EntryKind.TransitionScale:
                    held[e.Rates[0]] = Scale(name, v, e.Shape!);
                    break;
            }

            offset += length;
        }
    }

    private static double Positive(string name, double value) =>
        StartValues.Problem(value) is { } problem ? throw new ModelValidationException(name, problem) : value;

    private static void RequireDiagonal(string name, ReadOnlySpan<double> v, int n)
    {
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (i != j && v[(i * n) + j] != 0.0)
                {
                    throw new ModelValidationException($"{name}[{i}][{j}]", "must be 0: the learned matrix is diagonal.");
                }
            }
        }
    }

    private static double Scale(string name, ReadOnlySpan<double> v, double[] shape)
    {
        var largest = 0;
        for (var i = 1; i < shape.Length; i++)
        {
            if (Math.Abs(shape[i]) > Math.Abs(shape[largest]))
            {
                largest = i;
            }
        }

        var theta = Positive(name, v[largest] / shape[largest]);
        for (var i = 0; i < shape.Length; i++)
        {
            if (Math.Abs(v[i] - (theta * shape[i])) > 1e-9 * Math.Abs(theta * shape[largest]))
            {
                throw new ModelValidationException(name, "must be a positive multiple of the spec's transitionNoise (a non-diagonal matrix learns one scale).");
            }
        }

        return theta;
    }

    private static Entry ObservationEntry(string field, LinearGaussianModel model, ObservationMode[] modes, AdaptationSettings settings)
    {
        var m = model.ObservationDimension;
        var r = model.ObservationNoise;
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                if (i != j && r[(i * m) + j] != 0.0)
                {
                    throw new ModelValidationException(field, $"observationNoise has [{i}][{j}] = {r[(i * m) + j].ToString("R", CultureInfo.InvariantCulture)}; learning it online needs a diagonal matrix (each variance is learned on its own).");
                }
            }

            if (!(r[(i * m) + i] > 0.0))
            {
                throw new ModelValidationException(field, $"observationNoise[{i}][{i}] is 0; a variance learned on a log scale must start positive.");
            }

            modes[i] = settings.ObservationNoise == NoiseLearningMethod.VariationalBayes ? ObservationMode.VariationalBayes : ObservationMode.RecursiveMaximumLikelihood;
        }

        return new Entry(EntryKind.ObservationNoise, new LearnedParameter("observationNoise", m, m, AdaptationSettings.Name(settings.ObservationNoise)), [], [], null);
    }

    private static Entry TransitionEntry(string field, JsonObject root, JsonObject zeroed, JsonObject fixedPart, List<Rate> rates, int n)
    {
        var q = ReadMatrix(root["transitionNoise"]!, n);
        var diagonal = true;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                diagonal &= i == j || q[(i * n) + j] == 0.0;
            }
        }

        fixedPart["transitionNoise"] = Matrix(new double[n * n], n);
        var descriptor = new LearnedParameter("transitionNoise", n, n, "recursive-ml");
        if (!diagonal)
        {
            var basis = JsonNode.Parse(zeroed.ToJsonString())!.AsObject();
            basis["transitionNoise"] = Matrix(q, n);
            rates.Add(new Rate(Dynamics(basis), 1.0, 1.0));
            return new Entry(EntryKind.TransitionScale, descriptor, [rates.Count - 1], [], q);
        }

        var indices = new List<int>();
        var ids = new List<int>();
        for (var i = 0; i < n; i++)
        {
            if (q[(i * n) + i] > 0.0)
            {
                var unit = new double[n * n];
                unit[(i * n) + i] = 1.0;
                var basis = JsonNode.Parse(zeroed.ToJsonString())!.AsObject();
                basis["transitionNoise"] = Matrix(unit, n);
                rates.Add(new Rate(Dynamics(basis), q[(i * n) + i], 1.0));
                indices.Add(i);
                ids.Add(rates.Count - 1);
            }
        }

        if (ids.Count == 0)
        {
            throw new ModelValidationException(field, "transitionNoise is all zeros; a variance learned on a log scale must start positive.");
        }

        return new Entry(EntryKind.TransitionDiagonal, descriptor, [.. ids], [.. indices], null);
    }

    private static Entry ComponentEntry(string field, string name, JsonObject root, JsonObject zeroed, JsonObject fixedPart, List<Rate> rates)
    {
        var (component, key) = Locate(root, name);
        var typeName = component["type"]?.GetValue<string>() ?? string.Empty;
        var power = RateFields.First(r => r.Type == typeName && r.Field == key).Power;
        var start = component[key]!.GetValue<double>();
        if (!(start > 0.0))
        {
            throw new ModelValidationException(field, $"{name} is {start.ToString("R", CultureInfo.InvariantCulture)}; a rate learned on a log scale must start positive.");
        }

        var basis = JsonNode.Parse(zeroed.ToJsonString())!.AsObject();
        Locate(basis, name).Component[key] = 1.0;
        Locate(fixedPart, name).Component[key] = 0.0;
        rates.Add(new Rate(Dynamics(basis), Math.Pow(start, power), power));
        return new Entry(EntryKind.Rate, new LearnedParameter(name, 0, 0, "recursive-ml"), [rates.Count - 1], [], null);
    }

    /// <summary>Every name <c>adapt</c> may list for this spec.</summary>
    private static List<string> Learnable(JsonObject root, bool matrices)
    {
        var names = new List<string> { "observationNoise" };
        if (matrices)
        {
            names.Add("transitionNoise");
            return names;
        }

        foreach (var (prefix, component) in Components(root))
        {
            var type = component["type"] is JsonValue t && t.TryGetValue<string>(out var s) ? s : string.Empty;
            names.AddRange(RateFields.Where(r => r.Type == type && component.ContainsKey(r.Field)).Select(r => $"{prefix}.{r.Field}"));
        }

        return names;
    }

    private static IEnumerable<(string Prefix, JsonObject Component)> Components(JsonObject root)
    {
        if (root["preset"] is JsonObject preset)
        {
            yield return ("preset", preset);
        }

        if (root["components"] is JsonArray list)
        {
            for (var i = 0; i < list.Count; i++)
            {
                if (list[i] is JsonObject c)
                {
                    yield return ($"components[{i}]", c);
                }
            }
        }
    }

    private static (JsonObject Component, string Key) Locate(JsonObject root, string name)
    {
        var match = ComponentPath().Match(name);
        var component = match.Groups[1].Value == "preset"
            ? root["preset"]!.AsObject()
            : root["components"]!.AsArray()[int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture)]!.AsObject();
        return (component, match.Groups[3].Value);
    }

    private static void ZeroNoise(JsonObject root, bool matrices, int n)
    {
        if (matrices)
        {
            root["transitionNoise"] = Matrix(new double[n * n], n);
            return;
        }

        foreach (var (_, component) in Components(root))
        {
            foreach (var (_, field, _) in RateFields)
            {
                if (component.ContainsKey(field))
                {
                    component[field] = 0.0;
                }
            }
        }
    }

    private static ILinearDynamics Dynamics(JsonObject root)
    {
        using var document = JsonDocument.Parse(root.ToJsonString());
        return LinearGaussianKind.BuildModel(new SpecReader(document.RootElement.Clone())).Dynamics;
    }

    private static double[] ReadMatrix(JsonNode node, int n)
    {
        var values = new double[n * n];
        var rows = node.AsArray();
        for (var i = 0; i < n; i++)
        {
            var row = rows[i]!.AsArray();
            for (var j = 0; j < n; j++)
            {
                values[(i * n) + j] = row[j]!.GetValue<double>();
            }
        }

        return values;
    }

    private static JsonArray Matrix(double[] values, int n)
    {
        var rows = new JsonArray();
        for (var i = 0; i < n; i++)
        {
            var row = new JsonArray();
            for (var j = 0; j < n; j++)
            {
                row.Add(values[(i * n) + j]);
            }

            rows.Add(row);
        }

        return rows;
    }

    [GeneratedRegex(@"^(preset|components\[(\d+)\])\.(\w+)$")]
    private static partial Regex ComponentPath();

    private enum EntryKind
    {
        ObservationNoise,
        Rate,
        TransitionDiagonal,
        TransitionScale,
    }

    private sealed record Rate(ILinearDynamics Basis, double Start, double Power);

    /// <summary>One <c>adapt</c> name: what it shows and which internal parameters carry it.</summary>
    private sealed record Entry(EntryKind Kind, LearnedParameter Descriptor, int[] Rates, int[] Indices, double[]? Shape);
}
