using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Json.Schema;
using StreamSeq.Estimation.Specs;
using StreamSeq.Testing;

namespace StreamSeq.Cli.Tests.Documentation;

/// <summary>
/// What a user may rely on in a command's output, checked on the outputs of the documented commands: records match
/// schemas/output-record.schema.json; outside a stream's exact diffuse phase every variance is finite and
/// non-negative and every covariance symmetric and positive semi-definite (inside it, +∞ marks the diffuse part; a
/// negative or −∞ variance is never allowed); fitted specs match the model-spec schema and load; plots and CSV
/// outputs are well-formed.
/// </summary>
internal static class OutputChecks
{
    private const int MaxProblems = 5;

    private static readonly Lazy<JsonSchema> RecordSchema = new(() => Schema("output-record.schema.json"));
    private static readonly Lazy<JsonSchema> SpecSchema = new(() => Schema("model-spec.schema.json"));

    /// <summary>
    /// The problems found in each records file checked so far, by its SHA-256: the pages repeat commands (the sensors
    /// example in the README twice and in docs/dashboard.md, the recurrent UKF in three pages), and the same bytes give
    /// the same problems, so a file identical to one already checked is not evaluated against the schema again (each
    /// of those outputs took about a minute to check, record by record).
    /// </summary>
    private static readonly ConcurrentDictionary<string, List<string>> CheckedRecords = new(StringComparer.Ordinal);

    /// <summary>Problems with the output <paramref name="path"/> of the CLI command <paramref name="verb"/>.</summary>
    public static List<string> Check(string path, string verb)
    {
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            return [$"wrote no {path}"];
        }

        return verb switch
        {
            "run" when File.Exists(path) => [.. CheckedRecords.GetOrAdd(Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(path))), _ => Records(path))],
            "run" => Records(path),
            "fit" => FittedSpec(path),
            "plot" => Picture(path),
            _ => Table(path),
        };
    }

    private static List<string> Records(string path)
    {
        var problems = new List<string>();
        var diffuseTimes = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        var line = 0;
        foreach (var text in File.ReadLines(path))
        {
            line++;
            if (problems.Count >= MaxProblems)
            {
                break;
            }

            var result = RecordSchema.Value.Evaluate(JsonDocument.Parse(text).RootElement);
            if (!result.IsValid)
            {
                problems.Add($"line {line} does not match the output-record schema");
                continue;
            }

            using var doc = JsonDocument.Parse(text);
            var record = doc.RootElement;
            var type = record.GetProperty("type").GetString();
            var stream = record.GetProperty("stream").GetString()!;
            var time = record.GetProperty("time").GetRawText();
            var diffuse = diffuseTimes.TryGetValue(stream, out var set) ? set : diffuseTimes[stream] = [];
            bool infiniteAllowed;
            switch (type)
            {
                case "filtered":
                    infiniteAllowed = record.TryGetProperty("health", out var health) && health.EnumerateArray().Any(h => h.GetString() == "diffuse");
                    if (infiniteAllowed)
                    {
                        diffuse.Add(time);
                    }

                    break;
                case "smoothed":
                    infiniteAllowed = diffuse.Contains(time);
                    break;
                case "forecast":
                    infiniteAllowed = diffuse.Contains(record.GetProperty("madeAt").GetRawText());
                    break;
                default:
                    continue;
            }

            foreach (var name in new[] { "predicted", "observation", "state" })
            {
                if (record.TryGetProperty(name, out var moments) && moments.TryGetProperty("cov", out var cov)
                    && Covariance(cov, infiniteAllowed) is { } problem)
                {
                    problems.Add($"line {line} ({type}, stream {stream}, time {time}): {name}.cov {problem}");
                }
            }
        }

        if (line == 0)
        {
            problems.Add("is empty");
        }

        return problems;
    }

    /// <summary>Null when the matrix is a valid covariance (see the class summary), else the problem.</summary>
    internal static string? Covariance(JsonElement rows, bool infiniteAllowed)
    {
        var n = rows.GetArrayLength();
        var a = new double[n, n];
        var i = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var j = 0;
            foreach (var v in row.EnumerateArray())
            {
                a[i, j++] = v.ValueKind == JsonValueKind.Number ? v.GetDouble() : double.Parse(v.GetString()!, CultureInfo.InvariantCulture);
            }

            i++;
        }

        var infinite = false;
        for (i = 0; i < n; i++)
        {
            if (double.IsNaN(a[i, i]) || a[i, i] < 0.0)
            {
                return $"has variance {a[i, i]} at [{i}][{i}]";
            }

            if (double.IsPositiveInfinity(a[i, i]))
            {
                if (!infiniteAllowed)
                {
                    return $"has an infinite variance at [{i}][{i}] outside the diffuse phase";
                }

                infinite = true;
            }
        }

        if (infinite)
        {
            return null;
        }

        var scale = 0.0;
        for (i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                if (!double.IsFinite(a[i, j]))
                {
                    return $"has the non-finite entry {a[i, j]} at [{i}][{j}]";
                }

                scale = Math.Max(scale, Math.Abs(a[i, j]));
            }
        }

        // Relative to the largest entry, with an absolute floor for matrices such as an HMM's diag(p) − pp' near a
        // one-hot p, whose entries are tiny differences of numbers near 1.
        var tolerance = (1e-9 * scale) + 1e-12;
        for (i = 0; i < n; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (Math.Abs(a[i, j] - a[j, i]) > tolerance)
                {
                    return $"is not symmetric at [{i}][{j}] ({a[i, j]} vs {a[j, i]})";
                }
            }
        }

        // Positive semi-definite within rounding: the Cholesky factorisation of A + εI succeeds.
        var l = new double[n, n];
        for (var j = 0; j < n; j++)
        {
            var d = a[j, j] + tolerance;
            for (var k = 0; k < j; k++)
            {
                d -= l[j, k] * l[j, k];
            }

            if (!(d > 0.0))
            {
                return $"is not positive semi-definite (pivot {d} at {j})";
            }

            l[j, j] = Math.Sqrt(d);
            for (i = j + 1; i < n; i++)
            {
                var s = a[i, j];
                for (var k = 0; k < j; k++)
                {
                    s -= l[i, k] * l[j, k];
                }

                l[i, j] = s / l[j, j];
            }
        }

        return null;
    }

    private static List<string> FittedSpec(string path)
    {
        var text = File.ReadAllText(path);
        var result = SpecSchema.Value.Evaluate(JsonDocument.Parse(text).RootElement);
        if (!result.IsValid)
        {
            return ["the fitted spec does not match the model-spec schema"];
        }

        ModelCatalog.Build(ModelSpec.Load(path));
        return [];
    }

    private static List<string> Picture(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return path.EndsWith(".png", StringComparison.OrdinalIgnoreCase) && (bytes.Length < 100 || bytes[1] != (byte)'P' || bytes[2] != (byte)'N' || bytes[3] != (byte)'G')
            ? ["is not a PNG image"]
            : [];
    }

    private static List<string> Table(string path)
    {
        var lines = File.ReadLines(path).Take(3).ToList();
        return lines.Count < 2 || !lines[0].Contains(',', StringComparison.Ordinal) ? ["is not a CSV table with a header and rows"] : [];
    }

    private static JsonSchema Schema(string name) =>
        JsonSchema.FromText(File.ReadAllText(RepositoryFiles.Path("schemas", name)).Replace(".schema.json", ".documented.schema.json", StringComparison.Ordinal));
}
