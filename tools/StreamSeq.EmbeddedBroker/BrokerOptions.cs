using System.Globalization;

namespace StreamSeq.EmbeddedBroker;

/// <summary>Command-line options of the embedded broker host.</summary>
internal sealed class BrokerOptions
{
    public const string Usage = """
        Usage: StreamSeq.EmbeddedBroker [options]
          --brokers N                 number of brokers (default 1)
          --topic NAME[:P[:R]]        create a topic with P partitions (default 1) and replication R (default 1); repeatable
          --rebalance-delay MS        classic group.initial.rebalance.delay.ms (default 0)
          --consumer-heartbeat MS     KIP-848 group.consumer.heartbeat.interval.ms (default 250)
          --ignore-stdin              keep running when standard input closes (stop with SIGTERM/SIGINT only)
          --help                      show this text
        Prints the bootstrap address as the first line of standard output, then runs until standard input closes,
        SIGTERM or SIGINT.
        """;

    public int Brokers { get; private set; } = 1;

    public List<TopicSpec> Topics { get; } = [];

    public TimeSpan InitialRebalanceDelay { get; private set; } = TimeSpan.Zero;

    public TimeSpan ConsumerGroupHeartbeatInterval { get; private set; } = TimeSpan.FromMilliseconds(250);

    public bool WatchStandardInput { get; private set; } = true;

    public bool ShowHelp { get; private set; }

    /// <summary>Parses the arguments; a <see cref="FormatException"/> names the offending option and value.</summary>
    public static BrokerOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BrokerOptions();
        for (var i = 0; i < args.Count; i++)
        {
            switch (args[i])
            {
                case "--brokers":
                    options.Brokers = PositiveInt(args, ref i);
                    break;
                case "--topic":
                    options.Topics.Add(TopicSpec.Parse(Value(args, ref i)));
                    break;
                case "--rebalance-delay":
                    options.InitialRebalanceDelay = TimeSpan.FromMilliseconds(NonNegativeInt(args, ref i));
                    break;
                case "--consumer-heartbeat":
                    options.ConsumerGroupHeartbeatInterval = TimeSpan.FromMilliseconds(PositiveInt(args, ref i));
                    break;
                case "--ignore-stdin":
                    options.WatchStandardInput = false;
                    break;
                case "--help":
                case "-h":
                    options.ShowHelp = true;
                    break;
                default:
                    throw new FormatException($"Unknown option '{args[i]}'.");
            }
        }

        foreach (var topic in options.Topics)
        {
            if (topic.ReplicationFactor > options.Brokers)
            {
                throw new FormatException(
                    $"--topic {topic.Name}: replication factor {topic.ReplicationFactor} exceeds --brokers {options.Brokers}.");
            }
        }

        return options;
    }

    private static string Value(IReadOnlyList<string> args, ref int i)
    {
        if (i + 1 >= args.Count)
        {
            throw new FormatException($"Option '{args[i]}' needs a value.");
        }

        return args[++i];
    }

    private static int PositiveInt(IReadOnlyList<string> args, ref int i)
    {
        var option = args[i];
        var value = NonNegativeInt(args, ref i);
        return value > 0 ? value : throw new FormatException($"Option '{option}' must be positive, not {value}.");
    }

    private static int NonNegativeInt(IReadOnlyList<string> args, ref int i)
    {
        var option = args[i];
        var text = Value(args, ref i);
        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new FormatException($"Option '{option}' expects a non-negative integer, not '{text}'.");
    }
}
