using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Learning;
using StreamSeq.Estimation.Particles;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Tests.Recurrent.Training;

public sealed class BpttTrainerTests
{
    [Theory]
    [InlineData("gru", 1)]
    [InlineData("lstm", 2)]
    [InlineData("elman", 1)]
    public void FitGradient_LinearArProcess_ApproachesTheTrueNegativeLogLikelihood(string cell, int layers)
    {
        // y_t = 3 + 0.8 (y_{t-1} - 3) + 0.5 ε_t: the exact predictive NLL per step is ½ log(2π·0.25) + ½.
        var series = ArSeries(1500, seed: 4);
        var spec = ModelSpec.Parse($$"""{"name":"ar","kind":"recurrent","cell":"{{cell}}","inputSize":1,"hiddenSize":4,"layers":{{layers}}}""");
        var kind = Assert.IsType<RecurrentKind>(ModelCatalog.Find("recurrent"));
        var result = kind.FitGradient(spec, [series], new BpttOptions { Epochs = 25, LearningRate = 0.02, Seed = 3 });
        var exact = (0.5 * Math.Log(2 * Math.PI * 0.25)) + 0.5;
        Assert.True(result.ValidationNll < exact + 0.05, $"{cell}: validation NLL {result.ValidationNll:F4}, exact {exact:F4}");
        Assert.Equal(1200, result.TrainingSteps);
        Assert.Equal(300, result.ValidationSteps);

        // The normalisation is computed from the training part only.
        var training = series.Values.AsSpan(0, 1200).ToArray();
        var mean = training.Average();
        var scale = Math.Sqrt(training.Select(v => (v - mean) * (v - mean)).Average());
        var normalization = result.Fit.Spec["normalization"]!;
        Assert.Equal(mean, normalization["mean"]![0]!.GetValue<double>(), 12);
        Assert.Equal(scale, normalization["scale"]![0]!.GetValue<double>(), 12);

        // The reported log-likelihood is the estimator's on all the data with the returned weights.
        var trained = ModelSpec.Parse(result.Fit.Spec.ToJsonString());
        var shape = RecurrentSpec.ReadShape(trained.Reader());
        var layout = RecurrentSpec.ReadLayout(trained.Reader(), 1);
        var estimator = new RecurrentEstimator(RecurrentSpec.Create<double>(shape, result.Weights, layout.HeadOutputSize, "head"), layout);
        Assert.Equal(result.Fit.LogLikelihood, LogLikelihood.Evaluate(estimator, [series]), 8);
    }

    [Fact]
    public void FitGradient_ReadingsAtOffset1e9_NormalizationIsTheCentredMeanAndStandardDeviation()
    {
        // Readings 1e9 + d_t with d_t = ((7t mod 13) - 6) / 4, all exact in binary. Over the 80 training readings
        // (Python, exact fractions on d): mean(d) = -1/64, so the mean is 999999999.984375, and the population
        // variance of d is 0.881787109375, so the scale is sqrt of it, 0.9390352013503008. The sum of squares minus
        // the squared mean (terms near 1e18, spaced 128 apart) lost the variance entirely, and the scale became 1, the
        // value for readings without variation.
        var values = new double[100];
        for (var t = 0; t < values.Length; t++)
        {
            values[t] = 1e9 + ((((7 * t) % 13) - 6) / 4.0);
        }

        var spec = ModelSpec.Parse("""{"name":"ar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":3}""");
        var result = new RecurrentKind().FitGradient(spec, [new ObservationSeries(1, values)], new BpttOptions { Epochs = 1, Seed = 1 });
        Assert.Equal(80, result.TrainingSteps);
        var normalization = result.Fit.Spec["normalization"]!;
        Assert.Equal(999999999.984375, normalization["mean"]![0]!.GetValue<double>());
        Assert.Equal(0.9390352013503008, normalization["scale"]![0]!.GetValue<double>(), 14);
    }

    [Fact]
    public void FitGradient_StartingWeights_AreFineTunedNotReplaced()
    {
        var series = ArSeries(400, seed: 5);
        var spec = ModelSpec.Parse("""{"name":"ar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":3}""");
        var kind = new RecurrentKind();
        var first = kind.FitGradient(spec, [series], new BpttOptions { Epochs = 5, Seed = 1 });
        var folder = Directory.CreateTempSubdirectory("streamseq-bptt-").FullName;
        try
        {
            SafeTensorsFormat.WriteFile(Path.Combine(folder, "w.safetensors"), first.Weights);
            var withWeights = ModelSpec.Parse(
                """{"name":"ar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":3,"weights":"w.safetensors"}""",
                baseDirectory: folder);
            var zero = kind.FitGradient(withWeights, [series], new BpttOptions { Epochs = 1, LearningRate = 1e-12, Seed = 99 });

            // A negligible step from the starting weights: same weights regardless of the seed.
            Assert.Equal(first.Weights["weight_hh_l0"].ToArray<double>(), zero.Weights["weight_hh_l0"].ToArray<double>(), (a, b) => Math.Abs(a - b) < 1e-9);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void FitGradient_BadSettingsOrData_FailNamingTheSetting()
    {
        var spec = ModelSpec.Parse("""{"name":"ar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":3}""");
        var kind = new RecurrentKind();
        Assert.Equal("--validation-fraction", Assert.Throws<ModelValidationException>(() => kind.FitGradient(spec, [ArSeries(50, 1)], new BpttOptions { ValidationFraction = 1 })).Field);

        // An infinite clip norm clips nothing, like 0, but the fitted spec records it and JSON has no infinity: the
        // training ran to the end and then failed to write its result.
        Assert.Equal("--clip-norm", Assert.Throws<ModelValidationException>(() => kind.FitGradient(spec, [ArSeries(50, 1)], new BpttOptions { ClipNorm = double.PositiveInfinity })).Field);
        Assert.Equal("input", Assert.Throws<ModelValidationException>(() => kind.FitGradient(spec, [new ObservationSeries(2, new double[10])], new BpttOptions())).Field);
        var typo = ModelSpec.Parse("""{"name":"ar","kind":"recurrent","cell":"gru","inputSize":1,"hiddenSize":3,"hiden":4}""");
        Assert.Equal("hiden", Assert.Throws<ModelValidationException>(() => kind.FitGradient(typo, [ArSeries(50, 1)], new BpttOptions())).Field);
    }

    private static ObservationSeries ArSeries(int length, ulong seed)
    {
        var random = ParticleRandom.FromSeed(seed);
        var values = new double[length];
        var y = 3.0;
        for (var t = 0; t < length; t++)
        {
            y = 3.0 + (0.8 * (y - 3.0)) + (0.5 * random.NextGaussian());
            values[t] = y;
        }

        return new ObservationSeries(1, values);
    }
}
