using System.Globalization;
using System.Text.Json.Nodes;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>
/// Truncated back-propagation through time with Adam for the <c>recurrent</c> kind (see <see cref="BpttOptions"/>
/// for the procedure). Single-threaded and seeded, so the same data, spec and seed give bit-identical weights.
/// </summary>
/// <remarks>
/// When the spec has no <c>normalization</c>, the mean and standard deviation of each observed component over the
/// training parts become it (and likewise <c>controlNormalization</c>), and the returned spec carries them. The loss
/// is the mean Gaussian negative log-likelihood per observed step in normalised units; reported NLLs are in
/// observation units, computed exactly as <see cref="RecurrentEstimator"/> computes its log-likelihood.
/// </remarks>
internal static class BpttTrainer
{
    public static GradientFitResult Fit(ModelSpec spec, IReadOnlyList<ObservationSeries> sequences, BpttOptions options)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        var reader = spec.Reader();
        var shape = RecurrentSpec.ReadShape(reader);
        var specLayout = RecurrentSpec.ReadLayout(reader, shape.InputSize);
        var headPrefix = RecurrentSpec.ReadHeadPrefix(reader);
        if (reader.Has("initialHidden") || reader.Has("initialCell"))
        {
            throw reader.Error(reader.Has("initialHidden") ? "initialHidden" : "initialCell", "training by back-propagation through time starts every sequence from the zero state: remove initialHidden and initialCell to fit, and add them back to run.");
        }

        if (specLayout.InitialObservationFromFirstReading)
        {
            throw reader.Error("initialObservation", "\"first\" is not supported by fit --method bptt (training feeds a fixed y_0): give numbers, or leave it out, to fit.");
        }

        StateDictionary? start = reader.Has("weights") ? RecurrentSpec.LoadWeights(reader) : null;
        _ = reader.OptionalString("state");
        _ = reader.Integer("forecastSamples", 0);
        reader.EnsureAllFieldsKnown();
        var m = specLayout.ObservationDimension;
        var c = specLayout.ControlDimension;
        if (sequences.Count == 0)
        {
            throw new ModelValidationException("input", "there are no training sequences.");
        }

        var trainingLengths = new int[sequences.Count];
        for (var s = 0; s < sequences.Count; s++)
        {
            var series = sequences[s];
            if (series.Dimension != m)
            {
                throw new ModelValidationException("input", $"sequence {s} has {series.Dimension} components per observation; the model observes {m}.");
            }

            if (c > 0 && series.Controls is not null && series.ControlDimension != c)
            {
                throw new ModelValidationException("input", $"sequence {s} has {series.ControlDimension} control inputs; the model takes {c}.");
            }

            trainingLengths[s] = series.Length - (int)Math.Floor(series.Length * options.ValidationFraction);
        }

        var layout = Normalised(reader, spec, specLayout, sequences, trainingLengths, out var computedMean, out var computedScale, out var computedControlMean, out var computedControlScale);
        var data = new TrainingSequence[sequences.Count];
        for (var s = 0; s < sequences.Count; s++)
        {
            data[s] = Prepare(sequences[s], layout, trainingLengths[s]);
        }

        var warnings = computedMean is null ? [] : DominatedScales(data, sequences, m);

        var network = new TrainableNetwork(shape, layout, headPrefix);
        var theta = new double[network.Parameters.Count];
        var random = ParticleRandom.FromSeed(options.Seed);
        if (start is null)
        {
            network.Parameters.Initialize(theta, ref random);
        }
        else
        {
            try
            {
                network.Parameters.Import(start, theta);
            }
            catch (InvalidDataException e)
            {
                throw new ModelValidationException("weights", e.Message);
            }
        }

        var chunks = Chunks(data, options.ChunkLength);
        var chunkStates = new double[chunks.Length * network.StateSize];
        var chunkPrevious = new double[chunks.Length * m];
        var order = Enumerable.Range(0, chunks.Length).ToArray();
        var shuffle = random.Derive(0x5EED);
        var gradient = new double[theta.Length];
        var adam = new AdamOptimizer(theta.Length, options.LearningRate);
        var pass = Pass(network, theta, data, chunks, chunkStates, chunkPrevious);
        var best = Criterion(pass);
        var bestTheta = (double[])theta.Clone();
        var bestEpoch = 0;
        var sinceBest = 0;
        var epochs = 0;
        var stopped = false;
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            epochs = epoch;
            Shuffle(order, ref shuffle);
            for (var b = 0; b < order.Length; b += options.BatchSize)
            {
                Array.Clear(gradient);
                var count = 0;
                for (var i = b; i < Math.Min(order.Length, b + options.BatchSize); i++)
                {
                    var k = order[i];
                    var (sequence, at, length) = chunks[k];
                    network.Chunk(theta, data[sequence], at, length, chunkStates.AsSpan(k * network.StateSize, network.StateSize), chunkPrevious.AsSpan(k * m, m), gradient, out var counted);
                    count += counted;
                }

                if (count == 0)
                {
                    continue;
                }

                Scale(gradient, 1.0 / count, options.ClipNorm);
                adam.Update(theta, gradient);
            }

            pass = Pass(network, theta, data, chunks, chunkStates, chunkPrevious);
            var criterion = Criterion(pass);
            options.Progress?.Report(new FitProgress(
                epoch,
                options.Epochs,
                -pass.TrainingNll,
                string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}: validation NLL {pass.ValidationNll:F4}, training {pass.TrainingNll:F4}")));
            if (!double.IsFinite(criterion))
            {
                // Diverged: keep the best weights so far.
                stopped = true;
                break;
            }

            if (criterion < best - (1e-9 * Math.Abs(best)) || !double.IsFinite(best))
            {
                best = criterion;
                bestTheta = (double[])theta.Clone();
                bestEpoch = epoch;
                sinceBest = 0;
            }
            else if (++sinceBest >= options.Patience)
            {
                stopped = true;
                break;
            }
        }

        var final = Pass(network, bestTheta, data, chunks, chunkStates, chunkPrevious);
        var root = JsonNode.Parse(spec.Json.GetRawText())!.AsObject();
        root.Remove("weights");
        if (computedMean is not null)
        {
            root["normalization"] = new JsonObject { ["mean"] = ToJson(computedMean), ["scale"] = ToJson(computedScale!) };
        }

        if (computedControlMean is not null)
        {
            root["controlNormalization"] = new JsonObject { ["mean"] = ToJson(computedControlMean), ["scale"] = ToJson(computedControlScale!) };
        }

        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = "pt",
            ["producer"] = "streamseq fit --method bptt",
            ["cell"] = shape.Cell.ToString(),
            ["seed"] = options.Seed.ToString(CultureInfo.InvariantCulture),
        };
        var weights = network.Parameters.Export(bestTheta, metadata);
        return new GradientFitResult(
            new FitResult(root, final.LogLikelihood, epochs, stopped, "bptt"),
            weights,
            final.TrainingNll,
            final.ValidationNll,
            bestEpoch,
            epochs,
            final.TrainingSteps,
            final.ValidationSteps)
        {
            Warnings = warnings,
        };
    }

    /// <summary>
    /// A warning for each observed component whose computed scale one reading sets: when a single training reading makes
    /// up more than half of the component's sum of squared deviations (one 1e200 among ordinary values), every other
    /// reading is standardised to nearly the same number and the network has nothing to learn from them.
    /// </summary>
    internal static List<string> DominatedScales(TrainingSequence[] data, IReadOnlyList<ObservationSeries> sequences, int m)
    {
        var warnings = new List<string>();
        for (var j = 0; j < m; j++)
        {
            double total = 0.0, largest = 0.0;
            long count = 0;
            (int Sequence, int Step) at = (-1, -1);
            for (var s = 0; s < data.Length; s++)
            {
                for (var t = 0; t < data[s].TrainingLength; t++)
                {
                    var z = data[s].Values[(t * m) + j];
                    if (double.IsNaN(z))
                    {
                        continue;
                    }

                    total += z * z;
                    count++;
                    if (z * z > largest)
                    {
                        (largest, at) = (z * z, (s, t));
                    }
                }
            }

            if (count >= 10 && largest > 0.5 * total)
            {
                var reading = sequences[at.Sequence].Values[(at.Step * m) + j];
                warnings.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"normalization of component {j}: reading {at.Step + 1} of sequence {at.Sequence} ({reading:G6}) makes up {100.0 * largest / total:F0}% of the training readings' variance, so the other {count - 1} readings are scaled to almost the same value and the network learns little from them; remove or clip that reading, or give 'normalization' in the spec."));
            }
        }

        return warnings;
    }

    /// <summary>
    /// Runs the network over every whole sequence (no tape): the NLLs of the training and held-out parts in
    /// observation units, the total log-likelihood, and the state and previous input at the start of every chunk.
    /// </summary>
    internal static PassResult Pass(TrainableNetwork network, ReadOnlySpan<double> theta, TrainingSequence[] data, (int Sequence, int Start, int Length)[] chunks, Span<double> chunkStates, Span<double> chunkPrevious)
    {
        var layout = network.Layout;
        var m = layout.ObservationDimension;
        var c = layout.ControlDimension;
        var size = network.StateSize;
        var state = new double[size];
        var x = new double[m + c];
        var raw = new double[network.OutputSize];
        var mean = new double[m];
        var factor = new double[m * m];
        var y = new double[m];
        double training = 0.0, validation = 0.0;
        long trainingSteps = 0, validationSteps = 0;
        var chunk = 0;
        for (var s = 0; s < data.Length; s++)
        {
            var sequence = data[s];
            Array.Clear(state);
            for (var j = 0; j < m; j++)
            {
                x[j] = (layout.InitialObservation[j] - layout.ObservationMean[j]) / layout.ObservationScale[j];
            }

            for (var t = 0; t < sequence.Length; t++)
            {
                if (chunk < chunks.Length && chunks[chunk].Sequence == s && chunks[chunk].Start == t)
                {
                    state.CopyTo(chunkStates.Slice(chunk * size, size));
                    x.AsSpan(0, m).CopyTo(chunkPrevious.Slice(chunk * m, m));
                    chunk++;
                }

                if (c > 0)
                {
                    sequence.Controls.AsSpan(t * c, c).CopyTo(x.AsSpan(m));
                }

                network.Step(theta, x, state, raw, -1);
                var target = sequence.Values.AsSpan(t * m, m);
                for (var j = 0; j < m; j++)
                {
                    y[j] = double.IsNaN(target[j]) ? double.NaN : layout.ObservationMean[j] + (layout.ObservationScale[j] * target[j]);
                }

                var ll = layout.Moments(raw, mean, factor) ? layout.LogDensity(mean, factor, y, out _, out _) : double.NegativeInfinity;
                if (!double.IsNaN(ll))
                {
                    if (t < sequence.TrainingLength)
                    {
                        training -= ll;
                        trainingSteps++;
                    }
                    else
                    {
                        validation -= ll;
                        validationSteps++;
                    }
                }

                for (var j = 0; j < m; j++)
                {
                    x[j] = double.IsNaN(target[j]) ? raw[j] : target[j];
                }
            }
        }

        return new PassResult(
            trainingSteps > 0 ? training / trainingSteps : double.NaN,
            validationSteps > 0 ? validation / validationSteps : double.NaN,
            -(training + validation),
            trainingSteps,
            validationSteps);
    }

    internal static (int Sequence, int Start, int Length)[] Chunks(TrainingSequence[] data, int chunkLength)
    {
        var list = new List<(int, int, int)>();
        for (var s = 0; s < data.Length; s++)
        {
            for (var start = 0; start < data[s].TrainingLength; start += chunkLength)
            {
                list.Add((s, start, Math.Min(chunkLength, data[s].TrainingLength - start)));
            }
        }

        return [.. list];
    }

    internal static TrainingSequence Prepare(ObservationSeries series, RecurrentLayout layout, int trainingLength)
    {
        var m = layout.ObservationDimension;
        var c = layout.ControlDimension;
        var values = new double[series.Length * m];
        for (var t = 0; t < series.Length; t++)
        {
            for (var j = 0; j < m; j++)
            {
                var v = series.Values[(t * m) + j];
                values[(t * m) + j] = double.IsFinite(v) ? (v - layout.ObservationMean[j]) / layout.ObservationScale[j] : double.NaN;
            }
        }

        var controls = new double[series.Length * c];
        if (c > 0 && series.Controls is not null)
        {
            for (var t = 0; t < series.Length; t++)
            {
                for (var k = 0; k < c; k++)
                {
                    var u = series.Controls[(t * c) + k];
                    controls[(t * c) + k] = double.IsFinite(u) ? (u - layout.ControlMean[k]) / layout.ControlScale[k] : 0.0;
                }
            }
        }

        return new TrainingSequence(values, controls, series.Length, trainingLength);
    }

    private static RecurrentLayout Normalised(SpecReader reader, ModelSpec spec, RecurrentLayout layout, IReadOnlyList<ObservationSeries> sequences, int[] trainingLengths, out double[]? mean, out double[]? scale, out double[]? controlMean, out double[]? controlScale)
    {
        var m = layout.ObservationDimension;
        var c = layout.ControlDimension;
        mean = scale = controlMean = controlScale = null;
        if (!reader.Has("normalization"))
        {
            (mean, scale) = Moments(sequences, trainingLengths, m, s => s.Values, s => s.Dimension);
        }

        if (c > 0 && !reader.Has("controlNormalization"))
        {
            (controlMean, controlScale) = Moments(sequences, trainingLengths, c, s => s.Controls, s => s.ControlDimension);
        }

        if (mean is null && controlMean is null)
        {
            return layout;
        }

        return new RecurrentLayout(
            m,
            c,
            layout.Head,
            layout.CovarianceForm,
            layout.Head == RecurrentHeadType.Point ? layout.PointVariance.ToArray() : null,
            mean ?? layout.ObservationMean.ToArray(),
            scale ?? layout.ObservationScale.ToArray(),
            controlMean ?? layout.ControlMean.ToArray(),
            controlScale ?? layout.ControlScale.ToArray(),
            spec.Json.TryGetProperty("initialObservation", out _) ? layout.InitialObservation.ToArray() : null);
    }

    /// <summary>
    /// Mean and standard deviation of each component over the training readings, in two passes (the sum, then the
    /// squared deviations from the mean), so readings far from 0 next to their spread (counters near 1e9) keep their
    /// scale: the sum of squares less the squared mean has no correct digit there.
    /// </summary>
    private static (double[] Mean, double[] Scale) Moments(IReadOnlyList<ObservationSeries> sequences, int[] trainingLengths, int width, Func<ObservationSeries, double[]?> values, Func<ObservationSeries, int> stride)
    {
        var sum = new double[width];
        var squares = new double[width];
        var counts = new long[width];
        var mean = new double[width];
        for (var pass = 0; pass < 2; pass++)
        {
            for (var s = 0; s < sequences.Count; s++)
            {
                var v = values(sequences[s]);
                if (v is null || stride(sequences[s]) != width)
                {
                    continue;
                }

                for (var t = 0; t < trainingLengths[s]; t++)
                {
                    for (var j = 0; j < width; j++)
                    {
                        var x = v[(t * width) + j];
                        if (!double.IsFinite(x))
                        {
                            continue;
                        }

                        if (pass == 0)
                        {
                            sum[j] += x;
                            counts[j]++;
                        }
                        else
                        {
                            var d = x - mean[j];
                            squares[j] += d * d;
                        }
                    }
                }
            }

            if (pass == 0)
            {
                if (!sum.All(double.IsFinite))
                {
                    return ScaledMoments(sequences, trainingLengths, width, values, stride);
                }

                for (var j = 0; j < width; j++)
                {
                    mean[j] = counts[j] > 0 ? sum[j] / counts[j] : 0.0;
                }
            }
        }

        if (!squares.All(double.IsFinite))
        {
            return ScaledMoments(sequences, trainingLengths, width, values, stride);
        }

        var scale = new double[width];
        for (var j = 0; j < width; j++)
        {
            var variance = counts[j] > 1 ? squares[j] / counts[j] : 0.0;
            var sd = Math.Sqrt(variance);
            scale[j] = sd > 1e-12 * Math.Max(1.0, Math.Abs(mean[j])) ? sd : 1.0;
        }

        return (mean, scale);
    }

    /// <summary>
    /// The moments of readings whose squares (or sum) overflow, such as one reading of 1e200: computed from each value
    /// divided by its component's largest magnitude, so the scale written into the spec is finite; the squared deviations
    /// are taken from the mean in a further pass, as in <see cref="Moments"/>.
    /// </summary>
    private static (double[] Mean, double[] Scale) ScaledMoments(IReadOnlyList<ObservationSeries> sequences, int[] trainingLengths, int width, Func<ObservationSeries, double[]?> values, Func<ObservationSeries, int> stride)
    {
        var largest = new double[width];
        var sum = new double[width];
        var squares = new double[width];
        var counts = new long[width];
        var centre = new double[width];
        for (var pass = 0; pass < 3; pass++)
        {
            for (var s = 0; s < sequences.Count; s++)
            {
                var v = values(sequences[s]);
                if (v is null || stride(sequences[s]) != width)
                {
                    continue;
                }

                for (var i = 0; i < trainingLengths[s] * width; i++)
                {
                    var (j, x) = (i % width, v[i]);
                    if (!double.IsFinite(x))
                    {
                        continue;
                    }

                    if (pass == 0)
                    {
                        largest[j] = Math.Max(largest[j], Math.Abs(x));
                    }
                    else if (pass == 1)
                    {
                        sum[j] += x / largest[j];
                        counts[j]++;
                    }
                    else
                    {
                        var d = (x / largest[j]) - centre[j];
                        squares[j] += d * d;
                    }
                }
            }

            if (pass == 1)
            {
                for (var j = 0; j < width; j++)
                {
                    centre[j] = counts[j] > 0 ? sum[j] / counts[j] : 0.0;
                }
            }
        }

        var mean = new double[width];
        var scale = new double[width];
        for (var j = 0; j < width; j++)
        {
            var m = centre[j];
            var sd = counts[j] > 1 ? Math.Sqrt(squares[j] / counts[j]) * largest[j] : 0.0;
            mean[j] = m * largest[j];
            scale[j] = sd > 1e-12 * Math.Max(1.0, Math.Abs(mean[j])) ? sd : 1.0;
        }

        return (mean, scale);
    }

    private static double Criterion(PassResult pass) => pass.ValidationSteps > 0 ? pass.ValidationNll : pass.TrainingNll;

    private static void Shuffle(int[] order, ref ParticleRandom random)
    {
        for (var i = order.Length - 1; i > 0; i--)
        {
            var j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (order[i], order[j]) = (order[j], order[i]);
        }
    }

    private static void Scale(Span<double> gradient, double factor, double clipNorm)
    {
        var norm = 0.0;
        for (var i = 0; i < gradient.Length; i++)
        {
            gradient[i] *= factor;
            norm += gradient[i] * gradient[i];
        }

        norm = Math.Sqrt(norm);
        if (clipNorm > 0.0 && norm > clipNorm)
        {
            var shrink = clipNorm / norm;
            for (var i = 0; i < gradient.Length; i++)
            {
                gradient[i] *= shrink;
            }
        }
    }

    private static JsonArray ToJson(double[] values) => new([.. values.Select(v => (JsonNode)JsonValue.Create(v))]);

    /// <summary>The result of one pass over all sequences.</summary>
    internal readonly record struct PassResult(double TrainingNll, double ValidationNll, double LogLikelihood, long TrainingSteps, long ValidationSteps);
}
