namespace StreamSeq.Cli.Plotting;

/// <summary>One point of a line with a spread: per observed component, a value and a standard deviation.</summary>
/// <param name="Time">Epoch milliseconds for date axes, model time units otherwise.</param>
/// <param name="Mean">Per-component value.</param>
/// <param name="StandardDeviation">Per-component standard deviation (zeros when unknown).</param>
internal sealed record SeriesPoint(double Time, double[] Mean, double[] StandardDeviation);
