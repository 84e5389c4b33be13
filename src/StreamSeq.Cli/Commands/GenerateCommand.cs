using System.CommandLine;
using System.Globalization;
using System.Text;
using StreamSeq.Cli.Io;
using StreamSeq.Estimation.Particles;

namespace StreamSeq.Cli.Commands;

/// <summary>
/// <c>streamseq generate</c>: writes a synthetic series from a process with known Gaussian noise, so a trained model's
/// log-likelihood can be compared with the true process's.
/// </summary>
/// <remarks>
/// <para><c>nonlinear-ar</c> is a heteroscedastic exponential autoregression (Haggan and Ozaki's ExpAR(2) with a
/// state-dependent noise level):</para>
/// <code>
/// a_t = exp(−z_{t−1}²)
/// z_t = (0.5 + 0.9 a_t) z_{t−1} − (0.3 + 0.9 a_t) z_{t−2} + σ_t ε_t,   σ_t = 0.3 + 0.4 |tanh z_{t−1}|,   ε_t ~ N(0, 1)
/// </code>
/// <para>started from z = 0 with the first 200 steps discarded. The written value is y_t = z_t, or y_t = z_t + v_t with
/// v_t ~ N(0, <c>--sensor-noise</c>) to model a noisy sensor; <c>--latent-output</c> also writes z_t. Normal draws
/// come from xoshiro256** seeded with <c>--seed</c> (latent noise first, then the sensor's from a derived stream), so
/// the same seed gives the same latent series with or without sensor noise.</para>
/// </remarks>
internal static class GenerateCommand
{
    private const int BurnIn = 200;

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var output = OptionParsers.FileNotStandardOutput(CommonOptions.Output("Output CSV (header stream,time,value; time counts steps from 1)."));
        var process = new Option<string>("--process") { Description = "The process: 'nonlinear-ar' (heteroscedastic ExpAR(2), see docs/recurrent.md).", DefaultValueFactory = _ => "nonlinear-ar" };
        process.AcceptOnlyFromAmong("nonlinear-ar");
        var length = OptionParsers.WholeNumber("--length", "Number of steps.", 2000, 1);
        var seed = OptionParsers.Seed("Random seed (same seed, same latent series).", 1UL);
        var sensorNoise = OptionParsers.FiniteNumber("--sensor-noise", "Variance of Gaussian sensor noise added to the written values (0: write the process itself).", 0.0, 0.0);
        var stream = new Option<string>("--stream") { Description = "Stream id written in the first column.", DefaultValueFactory = _ => "series" };
        var latent = OptionParsers.FileNotStandardOutput(new Option<FileInfo?>("--latent-output") { Description = "Also write the noise-free latent series to this CSV." });
        var command = new Command("generate", "Write a synthetic series from a process with known Gaussian noise (for training and calibration checks).")
        {
            output, process, length, seed, sensorNoise, stream, latent,
        };
        command.SetAction(parse => CliErrors.Run(stderr, null, () => Execute(
            parse.GetValue(output)!.FullName,
            parse.GetValue(length),
            parse.GetValue(seed),
            parse.GetValue(sensorNoise),
            parse.GetValue(stream)!,
            parse.GetValue(latent)?.FullName,
            stderr)));
        return command;
    }

    public static int Execute(string outputPath, int length, ulong seed, double sensorNoise, string stream, string? latentPath, TextWriter stderr)
    {
        if (string.IsNullOrWhiteSpace(stream))
        {
            // run and fit reject a row whose stream cell is empty, so such a file would be all rejected rows.
            throw new UsageException("--stream: must not be empty.");
        }

        var latent = NonlinearAr(length, seed);
        var values = (double[])latent.Clone();
        if (sensorNoise > 0)
        {
            var sensor = ParticleRandom.FromSeed(seed).Derive(0x5E4503);
            var sd = Math.Sqrt(sensorNoise);
            for (var t = 0; t < length; t++)
            {
                values[t] += sd * sensor.NextGaussian();
            }
        }

        OutputFiles.CheckDistinct([("--output", outputPath), ("--latent-output", latentPath)], []);
        Write("--output", outputPath, stream, values);
        if (latentPath is not null)
        {
            Write("--latent-output", latentPath, stream, latent);
        }

        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {Counted.Of(length, "step")} of nonlinear-ar (seed {seed}, sensor noise variance {sensorNoise}) to {outputPath}"));
        return 0;
    }

    /// <summary>The latent ExpAR(2) series (see the class remarks).</summary>
    internal static double[] NonlinearAr(int length, ulong seed)
    {
        var random = ParticleRandom.FromSeed(seed);
        double previous = 0.0, beforePrevious = 0.0;
        var result = new double[length];
        for (var t = 0; t < length + BurnIn; t++)
        {
            var a = Math.Exp(-previous * previous);
            var sigma = 0.3 + (0.4 * Math.Abs(Math.Tanh(previous)));
            var z = ((0.5 + (0.9 * a)) * previous) - ((0.3 + (0.9 * a)) * beforePrevious) + (sigma * random.NextGaussian());
            beforePrevious = previous;
            previous = z;
            if (t >= BurnIn)
            {
                result[t - BurnIn] = z;
            }
        }

        return result;
    }

    private static void Write(string option, string path, string stream, double[] values)
    {
        using var file = OutputFiles.Open(option, path);
        using (var writer = new StreamWriter(file.Stream, new UTF8Encoding(false), 1 << 16, leaveOpen: true))
        {
            Rows(writer, stream, values);
        }

        file.Commit();
    }

    private static void Rows(StreamWriter writer, string stream, double[] values)
    {
        writer.WriteLine("stream,time,value");

        // RFC 4180: a stream id with a comma, quote or line break is quoted (quotes doubled), as the CSV readers expect.
        if (stream.AsSpan().IndexOfAny(",\"\r\n") >= 0)
        {
            stream = $"\"{stream.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";
        }

        for (var t = 0; t < values.Length; t++)
        {
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{stream},{t + 1},{values[t]:R}"));
        }
    }
}
