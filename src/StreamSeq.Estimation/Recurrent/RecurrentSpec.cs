using System.Text.Json;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Numerics;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// Reads the spec fields the recurrent kinds share: the network (<c>cell</c>, <c>inputSize</c>, <c>hiddenSize</c>,
/// <c>layers</c>, <c>precision</c>, <c>activation</c>), its <c>weights</c> file, the <c>head</c>, the
/// normalisations and the estimator options. Errors name the spec field.
/// </summary>
public static class RecurrentSpec
{
    /// <summary>How observations enter and predictions leave the net (every recurrent kind).</summary>
    public static SpecShape LayoutShape { get; } = SpecShape.Of("controlDimension", "initialObservation", "initialHidden", "initialCell")
        .Nest("head", SpecShape.Of("prefix").WithVariants("type", "gaussian", ("gaussian", SpecShape.Of("covariance")), ("point", SpecShape.Of("variance"))))
        .Nest("normalization", SpecShape.Of("mean", "scale"))
        .Nest("controlNormalization", SpecShape.Of("mean", "scale"));

    /// <summary>The managed network and its weights, plus <see cref="LayoutShape"/>.</summary>
    public static SpecShape NetworkShape { get; } = SpecShape.Of("cell", "activation", "inputSize", "hiddenSize", "layers", "precision", "weights").With(LayoutShape);

    /// <summary>The deterministic estimator's options (<c>recurrent</c>, <c>onnx-recurrent</c>).</summary>
    public static SpecShape EstimatorShape { get; } = SpecShape.Of("state", "forecastSamples");

    /// <summary>The noise fields of the filtering kinds (<c>recurrent-ukf</c>, <c>recurrent-particle</c>).</summary>
    public static SpecShape NoiseShape { get; } = SpecShape.Of("observationNoise", "processNoise", "initialVariance");

    /// <summary>Reads the network shape (no weights).</summary>
    public static RecurrentNetworkShape ReadShape(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var cellText = spec.String("cell");
        var cell = cellText switch
        {
            "lstm" => RecurrentCellKind.Lstm,
            "peephole-lstm" => RecurrentCellKind.PeepholeLstm,
            "gru" => RecurrentCellKind.Gru,
            "elman" => RecurrentCellKind.Elman,
            _ => throw spec.Error("cell", $"unknown cell '{cellText}' (known: lstm, peephole-lstm, gru, elman)."),
        };
        var activationText = spec.OptionalString("activation");
        var activation = activationText switch
        {
            null or "tanh" => ElmanActivation.Tanh,
            "relu" => ElmanActivation.Relu,
            _ => throw spec.Error("activation", $"must be \"tanh\" or \"relu\", got \"{activationText}\"."),
        };
        if (activationText is not null && cell != RecurrentCellKind.Elman)
        {
            throw spec.Error("activation", "applies to the elman cell only.");
        }

        var inputSize = Positive(spec, "inputSize", spec.Integer("inputSize"));
        var hiddenSize = Positive(spec, "hiddenSize", spec.Integer("hiddenSize"));
        var layers = Positive(spec, "layers", spec.Integer("layers", 1));
        var precision = spec.OptionalString("precision") ?? "double";
        if (precision is not ("double" or "single"))
        {
            throw spec.Error("precision", $"must be \"double\" or \"single\", got \"{precision}\".");
        }

        return new RecurrentNetworkShape(cell, inputSize, hiddenSize, layers, precision == "single", activation);
    }

    /// <summary>
    /// Reads the layout fields: <c>controlDimension</c>, <c>head</c>, <c>normalization</c>,
    /// <c>controlNormalization</c> and <c>initialObservation</c>, for a network with <paramref name="inputSize"/>
    /// inputs (the observation dimension is <paramref name="inputSize"/> − <c>controlDimension</c>).
    /// </summary>
    public static RecurrentLayout ReadLayout(SpecReader spec, int inputSize)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var c = spec.Integer("controlDimension", 0);
        if (c < 0 || c >= inputSize)
        {
            throw spec.Error("controlDimension", $"must be between 0 and inputSize - 1 = {inputSize - 1}, got {c}.");
        }

        var m = inputSize - c;
        var head = spec.OptionalObject("head");
        var type = head?.OptionalString("type") ?? "gaussian";
        var headType = type switch
        {
            "gaussian" => RecurrentHeadType.Gaussian,
            "point" => RecurrentHeadType.Point,
            _ => throw head!.Error("type", $"must be \"gaussian\" or \"point\", got \"{type}\"."),
        };
        var form = GaussianCovarianceForm.DiagonalLogVariance;
        double[]? variance = null;
        if (headType == RecurrentHeadType.Gaussian)
        {
            var text = head?.OptionalString("covariance") ?? "diagonal-log-variance";
            form = text switch
            {
                "diagonal-log-variance" => GaussianCovarianceForm.DiagonalLogVariance,
                "cholesky-exp" => GaussianCovarianceForm.CholeskyExp,
                "cholesky-softplus" => GaussianCovarianceForm.CholeskySoftplus,
                _ => throw head!.Error("covariance", $"must be \"diagonal-log-variance\", \"cholesky-exp\" or \"cholesky-softplus\", got \"{text}\"."),
            };
        }
        else
        {
            variance = Variances(head!, "variance");
        }

        head?.Allow("prefix");
        var normalization = spec.OptionalObject("normalization");
        var controlNormalization = spec.OptionalObject("controlNormalization");
        if (controlNormalization is not null && c == 0)
        {
            throw spec.Error("controlNormalization", "needs controlDimension > 0.");
        }

        var fromFirstReading = spec.Element.TryGetProperty("initialObservation", out var io) && io.ValueKind == JsonValueKind.String;
        if (fromFirstReading && spec.OptionalString("initialObservation") != "first")
        {
            throw spec.Error("initialObservation", $"must be an array of {m} numbers or \"first\" (each stream's own first reading), got \"{io.GetString()}\".");
        }

        // A wrong count on an observation-sized field often means inputSize or controlDimension is wrong instead: the
        // message says where the expected count comes from.
        var perObservation = $"one per observed component: inputSize {inputSize} less controlDimension {c}";
        var perControl = $"one per control input: controlDimension {c}";
        try
        {
            var layout = new RecurrentLayout(
                m,
                c,
                headType,
                form,
                variance,
                Sized(normalization, "mean", m, perObservation),
                Sized(normalization, "scale", m, perObservation),
                Sized(controlNormalization, "mean", c, perControl),
                Sized(controlNormalization, "scale", c, perControl),
                fromFirstReading ? null : Sized(spec, "initialObservation", m, perObservation));
            return fromFirstReading ? layout.WithInitialObservationFromFirstReading() : layout;
        }
        catch (ModelValidationException e) when (!string.IsNullOrEmpty(spec.Path))
        {
            throw e.WithPrefix(spec.Path);
        }
    }

    /// <summary>
    /// Reads <c>initialHidden</c> (one row of hidden values per layer, PyTorch's h_0[:, b, :]) and <c>initialCell</c>
    /// (c_0, LSTM cells only) and returns the layout with that initial state; both default to zeros.
    /// </summary>
    public static RecurrentLayout ReadInitialState(SpecReader spec, RecurrentLayout layout, IRecurrentBackend backend)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(backend);
        var hidden = backend.OutputHiddenSize;

        // The logical state holds, per layer, h and (LSTM cells) c; every LSTM backend's name ends in "lstm".
        var hasCell = backend.Name.EndsWith("lstm", StringComparison.Ordinal);
        var layers = backend.StateSize / (hidden * (hasCell ? 2 : 1));
        var h = spec.OptionalMatrix("initialHidden", layers, hidden)?.Values;
        var c = spec.OptionalMatrix("initialCell", layers, hidden)?.Values;
        if (c is not null && !hasCell)
        {
            throw spec.Error("initialCell", $"applies to LSTM cells only; this {backend.Name} net has no cell state.");
        }

        if (h is null && c is null)
        {
            return layout;
        }

        var state = new double[backend.StateSize];
        var stride = hidden * (hasCell ? 2 : 1);
        for (var l = 0; l < layers; l++)
        {
            h?.AsSpan(l * hidden, hidden).CopyTo(state.AsSpan(l * stride, hidden));
            c?.AsSpan(l * hidden, hidden).CopyTo(state.AsSpan((l * stride) + hidden, hidden));
        }

        try
        {
            return layout.WithInitialState(state);
        }
        catch (ModelValidationException e) when (!string.IsNullOrEmpty(spec.Path))
        {
            throw e.WithPrefix(spec.Path);
        }
    }

    /// <summary>The head's tensor prefix (<c>head.prefix</c>, default <c>head</c>).</summary>
    public static string ReadHeadPrefix(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var head = spec.OptionalObject("head");

        // The other head fields are checked by ReadLayout, through its own reader of the same object.
        head?.Allow("type", "covariance", "variance");
        return head?.OptionalString("prefix") ?? "head";
    }

    /// <summary>Loads the <c>weights</c> file (.safetensors, or a JSON dump) relative to the spec's folder; every
    /// problem becomes an error naming the field, the file and the tensor.</summary>
    public static StateDictionary LoadWeights(SpecReader spec, string field = "weights")
    {
        ArgumentNullException.ThrowIfNull(spec);
        var path = spec.FilePath(field);
        if (!File.Exists(path))
        {
            throw spec.Error(field, $"weights file '{path}' not found.");
        }

        try
        {
            return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? TorchJsonFormat.ReadFile(path) : SafeTensorsFormat.ReadFile(path);
        }
        catch (Exception e) when (e is InvalidDataException or IOException or JsonException or ArgumentException or FormatException)
        {
            throw spec.Error(field, e.Message);
        }
    }

    /// <summary>Builds the managed backend from weights; a missing, misshaped or non-finite tensor becomes an
    /// error on <paramref name="field"/> naming the tensor and its expected shape.</summary>
    public static IRecurrentBackend CreateBackend(SpecReader spec, RecurrentNetworkShape shape, StateDictionary weights, int headOutputSize, string headPrefix, string field = "weights")
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(weights);
        try
        {
            return shape.SinglePrecision
                ? Create<float>(shape, weights, headOutputSize, headPrefix)
                : Create<double>(shape, weights, headOutputSize, headPrefix);
        }
        catch (InvalidDataException e)
        {
            throw spec.Error(field, e.Message);
        }
    }

    /// <summary>Reads <c>state</c> (<c>full</c> or <c>output</c>) and <c>forecastSamples</c> and builds the
    /// estimator over <paramref name="backend"/>.</summary>
    public static RecurrentEstimator BuildEstimator(SpecReader spec, IRecurrentBackend backend, RecurrentLayout layout, string? family = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var viewText = spec.OptionalString("state") ?? "full";
        var view = viewText switch
        {
            "full" => RecurrentStateView.Full,
            "output" => RecurrentStateView.Output,
            _ => throw spec.Error("state", $"must be \"full\" (h and c of every layer) or \"output\" (the top hidden vector), got \"{viewText}\"."),
        };
        var samples = spec.Integer("forecastSamples", 0);
        return new RecurrentEstimator(backend, layout, view, samples, family);
    }

    /// <summary>A number (repeated) or an array of numbers.</summary>
    private static double[]? Sized(SpecReader? spec, string name, int length, string reason)
    {
        var values = spec?.OptionalVector(name);
        return values is null || values.Length == length
            ? values
            : throw spec!.Error(name, $"must have {length} entries ({reason}), got {values.Length}.");
    }

    internal static double[]? NumberOrVector(SpecReader spec, string name)
    {
        if (!spec.Has(name))
        {
            _ = spec.OptionalString(name);
            return null;
        }

        return spec.Element.GetProperty(name).ValueKind == JsonValueKind.Number ? [spec.Number(name)] : spec.Vector(name);
    }

    /// <summary>
    /// <see cref="NumberOrVector"/> for variances (<c>processNoise</c>, <c>initialVariance</c>, a point head's
    /// <c>variance</c>): each at most <see cref="Validate.MaxVariance"/>, errors naming the field (and the entry of a
    /// vector).
    /// </summary>
    internal static double[]? Variances(SpecReader spec, string name)
    {
        var values = NumberOrVector(spec, name);
        if (values is not null)
        {
            BoundVariances(spec, name, values);
        }

        return values;
    }

    /// <summary>A covariance given as a number (σ² I), a vector (diagonal) or an m×m matrix; every entry at most
    /// <see cref="Validate.MaxVariance"/>.</summary>
    internal static double[] ReadCovariance(SpecReader spec, string name, int m)
    {
        if (!spec.Has(name))
        {
            return spec.Matrix(name, m, m).Values;
        }

        var kind = spec.Element.GetProperty(name);
        if (kind.ValueKind == JsonValueKind.Array && kind.GetArrayLength() > 0 && kind[0].ValueKind == JsonValueKind.Array)
        {
            var matrix = spec.Matrix(name, m, m).Values;
            Validate.AtMostMaxVariance(spec.FieldPath(name), matrix, m);
            return matrix;
        }

        var diagonal = Variances(spec, name)!;
        if (diagonal.Length != 1 && diagonal.Length != m)
        {
            throw spec.Error(name, $"must be a number, {m} variances or an {m}x{m} matrix, got {diagonal.Length} numbers.");
        }

        var result = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            result[(i * m) + i] = diagonal.Length == 1 ? diagonal[0] : diagonal[i];
        }

        return result;
    }

    private static void BoundVariances(SpecReader spec, string name, double[] values)
    {
        if (spec.Element.GetProperty(name).ValueKind == JsonValueKind.Number)
        {
            Validate.AtMostMaxVariance(spec.FieldPath(name), values[0]);
        }
        else
        {
            Validate.AtMostMaxVariance(spec.FieldPath(name), values);
        }
    }

    internal static IRecurrentBackend Create<T>(RecurrentNetworkShape shape, StateDictionary weights, int headOutputSize, string headPrefix)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        foreach (var tensor in weights.Tensors)
        {
            if (tensor.DataType is TensorDataType.Float32 or TensorDataType.Float64 or TensorDataType.Float16 or TensorDataType.BFloat16
                && tensor.ToArray<double>().Any(v => !double.IsFinite(v)))
            {
                throw new InvalidDataException($"Tensor '{tensor.Name}'{(weights.Source is null ? string.Empty : $" in '{weights.Source}'")} holds a non-finite value.");
            }
        }

        RecurrentNetwork<T> network = shape.Cell switch
        {
            RecurrentCellKind.Lstm => new LstmNetwork<T>(weights, shape.InputSize, shape.HiddenSize, shape.Layers),
            RecurrentCellKind.PeepholeLstm => new PeepholeLstmNetwork<T>(weights, shape.InputSize, shape.HiddenSize, shape.Layers),
            RecurrentCellKind.Gru => new GruNetwork<T>(weights, shape.InputSize, shape.HiddenSize, shape.Layers),
            _ => new ElmanNetwork<T>(weights, shape.InputSize, shape.HiddenSize, shape.Layers, shape.Activation),
        };
        return new NetworkBackend<T>(network, new LinearHead<T>(weights, shape.HiddenSize, headOutputSize, headPrefix));
    }

    private static int Positive(SpecReader spec, string field, int value) =>
        value >= 1 ? value : throw spec.Error(field, $"must be at least 1, got {value}.");
}
