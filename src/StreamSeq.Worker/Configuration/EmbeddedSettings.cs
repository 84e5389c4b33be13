using System.ComponentModel.DataAnnotations;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// The embedded mode (section <c>StreamSeq:Embedded</c>): an in-process Kafka-protocol broker plus the sensor
/// simulator, for a laptop. It runs only when asked for (<see cref="Enabled"/>), never because a setting is missing.
/// </summary>
public sealed class EmbeddedSettings
{
    /// <summary>The configuration section.</summary>
    public const string Section = "StreamSeq:Embedded";

    /// <summary><see cref="Enabled"/>: run the embedded broker and the simulator.</summary>
    public const string On = "true";

    /// <summary><see cref="Enabled"/>: connect to <c>StreamSeq:Kafka:BootstrapServers</c> (the default).</summary>
    public const string Off = "false";

    /// <summary>
    /// <see cref="Enabled"/>, as the shipped appsettings.json says: run them only when no other configuration source
    /// (environment variable, command line, another settings file) sets anything under <c>StreamSeq</c>.
    /// </summary>
    public const string Auto = "auto";

    /// <summary>
    /// <c>true</c>, <c>false</c> (the default: a broker list is required) or <c>auto</c> (see <see cref="Auto"/>);
    /// <see cref="BrokerSelection"/> applies it.
    /// </summary>
    [RegularExpression("^(?i:true|false|auto)$", ErrorMessage = "must be true, false or auto.")]
    public string Enabled { get; set; } = Off;

    /// <summary>Run the simulator (it produces to the input topic of whatever broker is in use).</summary>
    public bool Simulator { get; set; } = true;

    /// <summary>Simulated sensor streams.</summary>
    [Range(1, 10_000_000)]
    public int Streams { get; set; } = 24;

    /// <summary>Wall-clock time between rounds of readings (one reading per stream per round).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "01:00:00")]
    public TimeSpan Pace { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Event time between rounds (the simulated sampling interval; larger than the pace fast-forwards time).</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan SampleInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Probability per reading that a fault episode starts.</summary>
    [Range(0.0, 1.0)]
    public double FaultRate { get; set; } = 0.004;

    /// <summary>Simulator seed.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Stop after this many rounds (0: run until the worker stops).</summary>
    [Range(0, int.MaxValue)]
    public int Rounds { get; set; }

    /// <summary>Interval of the periodic summary log line.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SummaryInterval { get; set; } = TimeSpan.FromSeconds(10);
}
