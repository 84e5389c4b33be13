// Writes stream states of fixed-lag smoothers (a linear Gaussian model with a diffuse start, particle filters), as the
// build it is compiled against saves them (StreamStateCodec.ToBytes), and what that build outputs for the next readings. Compiled
// against the build before the diffuse parts of the smoothing records were kept apart (5bf7331), its files are the
// states a running deployment holds when it is upgraded (FormerStateUpgradeTests). See ../README.md.
using System.Globalization;
using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Smoothing;
using StreamSeq.Estimation.Specs;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.State;

var outDir = args.Length > 0 ? args[0] : ".";
Directory.CreateDirectory(outDir);
const int Following = 12;

// Trend plus a weekly cycle (6 states), diffuse for the first 7 steps (the reading at step 1 is missing). The model's
// fingerprint covers the spec's text, so the tests read the same file.
// The same model learning its noise (an adaptive Kalman filter around the same records): lag 5 only.
foreach (var (prefix, file, lags) in new[] { ("", "trend-week.json", new[] { 2, 5 }), ("adaptive_", "trend-week-adaptive.json", new[] { 5 }) })
{
    var spec = File.ReadAllText(Path.Combine(outDir, file));
    foreach (var lag in lags)
    {
        foreach (var (label, saved) in new[] { ("mid", 4), ("after", 9) })
        {
            var binding = ModelBindingFactory.FromSpec(ModelSpec.Parse(spec), lag);
            var state = new StreamState("s", binding, 7);
            for (var t = 0; t < saved; t++)
            {
                Step(binding, state, t);
            }

            var name = string.Create(CultureInfo.InvariantCulture, $"{prefix}lag{lag}_{label}");
            File.WriteAllBytes(Path.Combine(outDir, name + ".state"), StreamStateCodec.ToBytes(state));

            // What the end of a series (the CLI's drain) smooths from the saved window: the steps still inside it.
            var pending = new StringBuilder();
            pending.Append("smoothed time,smoothed mean,smoothed covariance\n");
            foreach (var (time, mean, covariance) in ((FixedLagSmoother)binding.Estimator).SmoothPending(state.Buffer))
            {
                pending.Append(string.Create(CultureInfo.InvariantCulture, $"{time:R},{Join(mean)},{Join(covariance)}\n"));
            }

            File.WriteAllText(Path.Combine(outDir, name + ".pending.csv"), pending.ToString());
            var lines = new StringBuilder();
            lines.Append("time,diffuse,filtered mean,filtered covariance,smoothed time,smoothed mean,smoothed covariance\n");
            for (var t = saved; t < saved + Following; t++)
            {
                var e = Step(binding, state, t);
                lines.Append(string.Create(CultureInfo.InvariantCulture, $"{t},{((e.Flags & EstimateFlags.Diffuse) != 0 ? 1 : 0)},{Join(e.StateMean)},{Join(e.StateCovariance)},"));
                lines.Append(e.HasSmoothed
                    ? string.Create(CultureInfo.InvariantCulture, $"{e.SmoothedTime:R},{Join(e.SmoothedMean)},{Join(e.SmoothedCovariance)}\n")
                    : ",,\n");
            }

            File.WriteAllText(Path.Combine(outDir, name + ".outputs.csv"), lines.ToString());
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: state of {binding.Estimator.Info.StateLength} numbers after {saved} readings"));
        }
    }
}

// Particle filters (the growth model of examples/particle-growth.json and a linear Gaussian model under the guided
// filter, 200 particles each): their records gained a trailer since, which fixed lag never reads. Lag 5 only, saved
// with the window partly filled (3 readings) and after it wrapped around (8 readings).
foreach (var (prefix, file) in new[] { ("growth_", "particle-growth.json"), ("linear_particle_", "particle-linear.json") })
{
    var spec = File.ReadAllText(Path.Combine(outDir, file));
    foreach (var (label, saved) in new[] { ("mid", 3), ("after", 8) })
    {
        Write(ModelBindingFactory.FromSpec(ModelSpec.Parse(spec), 5), $"{prefix}lag5_{label}", saved);
    }
}

void Write(ModelBinding binding, string name, int saved)
{
    var state = new StreamState("s", binding, 7);
    for (var t = 0; t < saved; t++)
    {
        Step(binding, state, t);
    }

    File.WriteAllBytes(Path.Combine(outDir, name + ".state"), StreamStateCodec.ToBytes(state));
    var pending = new StringBuilder();
    pending.Append("smoothed time,smoothed mean,smoothed covariance\n");
    foreach (var (time, mean, covariance) in ((FixedLagSmoother)binding.Estimator).SmoothPending(state.Buffer))
    {
        pending.Append(string.Create(CultureInfo.InvariantCulture, $"{time:R},{Join(mean)},{Join(covariance)}\n"));
    }

    File.WriteAllText(Path.Combine(outDir, name + ".pending.csv"), pending.ToString());
    var lines = new StringBuilder();
    lines.Append("time,diffuse,filtered mean,filtered covariance,smoothed time,smoothed mean,smoothed covariance\n");
    for (var t = saved; t < saved + Following; t++)
    {
        var e = Step(binding, state, t);
        lines.Append(string.Create(CultureInfo.InvariantCulture, $"{t},{((e.Flags & EstimateFlags.Diffuse) != 0 ? 1 : 0)},{Join(e.StateMean)},{Join(e.StateCovariance)},"));
        lines.Append(e.HasSmoothed
            ? string.Create(CultureInfo.InvariantCulture, $"{e.SmoothedTime:R},{Join(e.SmoothedMean)},{Join(e.SmoothedCovariance)}\n")
            : ",,\n");
    }

    File.WriteAllText(Path.Combine(outDir, name + ".outputs.csv"), lines.ToString());
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name}: state of {binding.Estimator.Info.StateLength} numbers after {saved} readings"));
}

static Estimate Step(ModelBinding binding, StreamState state, int t)
{
    var estimate = new Estimate(binding.Estimator.Info);
    state.ReserveForNextStep();
    binding.Estimator.Step(state.Buffer, new Observation([Reading(t)], 1.0, t), estimate, default);
    state.Steps++;
    return estimate;
}

static double Reading(int t) =>
    t == 1 ? double.NaN : 10.0 + (0.5 * t) + (3.0 * Math.Sin(2.0 * Math.PI * t / 7.0)) + ((((t * 37) % 11) - 5) * 0.1);

static string Join(double[] values) => string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
