namespace StreamSeq.Processing.Simulation;

/// <summary>
/// A deterministic sensor fleet for demos, examples and tests: many streams of several kinds, sampled about once per
/// <see cref="SimulatorOptions.Interval"/> with jitter, with injected spikes, drifts, stuck sensors, level shifts and gaps.
/// The same options and seed always give the same readings.
/// </summary>
public sealed class SensorSimulator
{
    private readonly SimulatorOptions options;
    private readonly Sensor[] sensors;
    private long tick;

    /// <summary>Creates a fleet.</summary>
    public SensorSimulator(SimulatorOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Streams < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "Streams must be at least 1.");
        }

        this.options = options;
        var kinds = Enum.GetValues<SensorKind>();
        sensors = new Sensor[options.Streams];
        for (var i = 0; i < options.Streams; i++)
        {
            var kind = options.Kinds is { Count: > 0 } ks ? ks[i % ks.Count] : kinds[i % kinds.Length];
            sensors[i] = new Sensor($"{kind.ToString().ToLowerInvariant()}-{i:D4}", kind, new Random(options.Seed * 7919 + i + 1));
        }
    }

    /// <summary>The stream ids, in fleet order.</summary>
    public IEnumerable<string> Streams => sensors.Select(s => s.Id);

    /// <summary>The next round: one reading per sensor (gaps may skip some), in stream order.</summary>
    public IEnumerable<SimulatedReading> NextRound()
    {
        var baseTime = options.StartMilliseconds + (tick * (long)options.Interval.TotalMilliseconds);
        tick++;
        foreach (var s in sensors)
        {
            var reading = s.Next(baseTime, tick, options);
            if (reading is not null)
            {
                yield return reading;
            }
        }

    }

    /// <summary>Readings for <paramref name="rounds"/> rounds.</summary>
    public IEnumerable<SimulatedReading> Generate(int rounds)
    {
        for (var r = 0; r < rounds; r++)
        {
            foreach (var reading in NextRound())
            {
                yield return reading;
            }
        }
    }

    private sealed class Sensor(string id, SensorKind kind, Random rng)
    {
        private readonly double phase = rng.NextDouble() * 2 * Math.PI;
        private readonly double baseline = kind switch { SensorKind.Temperature => 18 + (6 * rng.NextDouble()), SensorKind.Pressure => 100 + (5 * rng.NextDouble()), _ => 0 };
        private double level;
        private double trend = (rng.NextDouble() - 0.5) * 0.002;
        private double px = rng.NextDouble() * 100, py = rng.NextDouble() * 100;
        private double vx = rng.NextDouble() - 0.5, vy = rng.NextDouble() - 0.5;
        private double pressure;
        private FaultKind fault;
        private int faultLeft;
        private double drift;
        private double shift;
        private double[]? last;

        public string Id { get; } = id;

        public SimulatedReading? Next(long baseTime, long tick, SimulatorOptions options)
        {
            // Start or continue a fault episode.
            if (faultLeft > 0)
            {
                faultLeft--;
                if (faultLeft == 0)
                {
                    fault = FaultKind.None;
                    drift = 0;
                }
            }
            else if (tick > options.WarmUpRounds && rng.NextDouble() < options.FaultRate)
            {
                fault = (FaultKind)(1 + rng.Next(5));
                faultLeft = fault switch { FaultKind.Spike => 1, FaultKind.Drift => 40, FaultKind.Stuck => 15, FaultKind.Gap => 5, _ => 1 };
                if (fault == FaultKind.LevelShift)
                {
                    shift += (rng.NextDouble() < 0.5 ? -1 : 1) * (3 + (3 * rng.NextDouble()));
                }
            }

            var jitter = (long)((rng.NextDouble() - 0.5) * 0.2 * options.Interval.TotalMilliseconds);
            var time = baseTime + jitter;
            var minutes = time / 60_000.0;
            double[] values;
            double noise;
            switch (kind)
            {
                case SensorKind.Temperature:
                    trend += Gaussian() * 0.0001;
                    level += trend + (Gaussian() * 0.02);
                    noise = 0.2;
                    values = [baseline + level + (2.0 * Math.Sin((2 * Math.PI * minutes / 1440.0) + phase)) + shift + (noise * Gaussian())];
                    break;
                case SensorKind.Position:
                    vx += Gaussian() * 0.05;
                    vy += Gaussian() * 0.05;
                    px += vx;
                    py += vy;
                    noise = 1.0;
                    values = [px + shift + (noise * Gaussian()), py + (noise * Gaussian())];
                    break;
                default:
                    pressure += (-0.1 * pressure) + (0.3 * Gaussian());
                    noise = 0.5;
                    values = [baseline + pressure + shift + (noise * Gaussian())];
                    break;
            }

            switch (fault)
            {
                case FaultKind.Spike:
                    values[0] += (rng.NextDouble() < 0.5 ? -1 : 1) * (8 + (4 * rng.NextDouble())) * noise * 3;
                    break;
                case FaultKind.Drift:
                    drift += 0.1 * noise;
                    values[0] += drift;
                    break;
                case FaultKind.Stuck when last is not null:
                    values = (double[])last.Clone();
                    break;
                case FaultKind.Gap:
                    if (rng.NextDouble() < 0.5)
                    {
                        return null;
                    }

                    values = [.. values.Select(_ => double.NaN)];
                    break;
            }

            last = values;
            return new SimulatedReading(Id, kind, time, values, fault);
        }

        private double Gaussian()
        {
            var u1 = 1.0 - rng.NextDouble();
            var u2 = rng.NextDouble();
            return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
        }
    }
}
