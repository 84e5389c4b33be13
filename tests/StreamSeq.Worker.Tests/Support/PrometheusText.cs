using System.Globalization;
using System.Text;

namespace StreamSeq.Worker.Tests.Support;

/// <summary>A Prometheus or OpenMetrics text exposition, parsed: families (# TYPE, # UNIT, # HELP) and samples.</summary>
public sealed class PrometheusText
{
    private PrometheusText(Dictionary<string, Family> families, List<Sample> samples)
    {
        Families = families;
        Samples = samples;
        Names = samples.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>One metric family as its metadata lines describe it.</summary>
    public sealed record Family(string Name, string Type, string? Unit, string? Help);

    /// <summary>One sample line.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>Families by name.</summary>
    public IReadOnlyDictionary<string, Family> Families { get; }

    /// <summary>Every sample, in order.</summary>
    public IReadOnlyList<Sample> Samples { get; }

    /// <summary>The sample names (what PromQL selects: <c>x_total</c>, <c>x_bucket</c>, <c>x_count</c>, gauges by name).</summary>
    public IReadOnlySet<string> Names { get; }

    /// <summary>The sum of the samples named <paramref name="name"/> (0 when there are none).</summary>
    public double Value(string name) => Samples.Where(s => s.Name == name).Sum(s => s.Value);

    public static PrometheusText Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        var units = new Dictionary<string, string>(StringComparer.Ordinal);
        var helps = new Dictionary<string, string>(StringComparer.Ordinal);
        var samples = new List<Sample>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0 || line == "# EOF")
            {
                continue;
            }

            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                if (parts.Length >= 4 || (parts.Length == 3 && parts[1] != "HELP"))
                {
                    var target = parts[1] switch { "TYPE" => types, "UNIT" => units, "HELP" => helps, _ => null };
                    target?.TryAdd(parts[2], parts.Length == 4 ? parts[3] : string.Empty);
                }

                continue;
            }

            samples.Add(ParseSample(line));
        }

        var families = types.ToDictionary(t => t.Key, t => new Family(t.Key, t.Value, units.GetValueOrDefault(t.Key), helps.GetValueOrDefault(t.Key)), StringComparer.Ordinal);
        return new PrometheusText(families, samples);
    }

    private static Sample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var brace = line.IndexOf('{', StringComparison.Ordinal);
        var space = line.IndexOf(' ', StringComparison.Ordinal);
        string name;
        int rest;
        if (brace >= 0 && brace < space)
        {
            name = line[..brace];
            var i = brace + 1;
            while (line[i] != '}')
            {
                var eq = line.IndexOf('=', i);
                var key = line[i..eq].Trim(',', ' ');
                var value = new StringBuilder();
                var j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] == 'n' ? '\n' : line[j]);
                    }
                    else
                    {
                        value.Append(line[j]);
                    }
                }

                labels[key] = value.ToString();
                i = j + 1;
                if (line[i] == ',')
                {
                    i++;
                }
            }

            rest = i + 1;
        }
        else
        {
            name = line[..space];
            rest = space;
        }

        var number = line[rest..].Trim().Split(' ')[0];
        var parsed = number switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            _ => double.Parse(number, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, parsed);
    }
}
