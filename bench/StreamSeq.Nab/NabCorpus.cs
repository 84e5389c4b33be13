using System.Text.Json;

namespace StreamSeq.Nab;

/// <summary>The labelled data files a detector is scored on (all of NAB, or a part of it).</summary>
public sealed class NabCorpus
{
    private readonly Dictionary<string, NabDataFile> byPath;

    /// <summary>Creates a corpus from data files; they are kept sorted by relative path.</summary>
    /// <exception cref="ArgumentException">Two files share a relative path, or there are none.</exception>
    public NabCorpus(IEnumerable<NabDataFile> files)
    {
        ArgumentNullException.ThrowIfNull(files);
        Files = [.. files.OrderBy(f => f.RelativePath, StringComparer.Ordinal)];
        if (Files.Count == 0)
        {
            throw new ArgumentException("A corpus needs at least one data file.", nameof(files));
        }

        byPath = new Dictionary<string, NabDataFile>(StringComparer.Ordinal);
        foreach (var file in Files)
        {
            if (!byPath.TryAdd(file.RelativePath, file))
            {
                throw new ArgumentException($"Data file {file.RelativePath} appears twice.", nameof(files));
            }
        }

        Categories = [.. Files.Select(f => f.Category).Distinct().Order(StringComparer.Ordinal)];
        WindowCount = Files.Sum(f => f.Windows.Count);
    }

    /// <summary>The data files, sorted by relative path.</summary>
    public IReadOnlyList<NabDataFile> Files { get; }

    /// <summary>The distinct categories, sorted.</summary>
    public IReadOnlyList<string> Categories { get; }

    /// <summary>Number of labelled windows over all files (NAB's count of possible true positives).</summary>
    public int WindowCount { get; }

    /// <summary>Finds a file by its relative path ("category/name.csv").</summary>
    public bool TryGetFile(string relativePath, out NabDataFile file) =>
        byPath.TryGetValue(relativePath, out file!);

    /// <summary>
    /// Loads the files named in a NAB windows file (combined_windows.json: "category/name.csv" to a list of
    /// [start, end] timestamp pairs) from <paramref name="dataDirectory"/>, whose CSVs have a "timestamp" column.
    /// </summary>
    /// <param name="dataDirectory">NAB's data folder (category folders inside).</param>
    /// <param name="windowsPath">Path of combined_windows.json.</param>
    /// <exception cref="InvalidDataException">The windows file is malformed or names a missing data file.</exception>
    public static NabCorpus Load(string dataDirectory, string windowsPath)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(windowsPath));
        if (document.RootElement.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{windowsPath}: expected an object mapping data files to window lists.");
        }

        var files = new List<NabDataFile>();
        foreach (var entry in document.RootElement.EnumerateObject())
        {
            var windows = ReadWindows(windowsPath, entry);
            var dataPath = Path.Combine(dataDirectory, entry.Name);
            if (!File.Exists(dataPath))
            {
                throw new InvalidDataException($"{windowsPath}: labelled file '{entry.Name}' not found at {dataPath}.");
            }

            var timestamps = NabCsv.ParseTimestamps(dataPath, NabCsv.ReadColumns(dataPath, "timestamp")[0]);
            try
            {
                files.Add(new NabDataFile(entry.Name, timestamps, windows));
            }
            catch (ArgumentException e)
            {
                throw new InvalidDataException($"{windowsPath}: {e.Message}", e);
            }
        }

        return new NabCorpus(files);
    }

    private static List<AnomalyWindow> ReadWindows(string windowsPath, JsonProperty entry)
    {
        if (entry.Value.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{windowsPath}: '{entry.Name}' must map to a list of [start, end] pairs.");
        }

        var windows = new List<AnomalyWindow>();
        foreach (var pair in entry.Value.EnumerateArray())
        {
            if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2)
            {
                throw new InvalidDataException($"{windowsPath}: '{entry.Name}' window {windows.Count} is not a [start, end] pair.");
            }

            windows.Add(new AnomalyWindow(
                ParseLimit(windowsPath, entry.Name, windows.Count, pair[0]),
                ParseLimit(windowsPath, entry.Name, windows.Count, pair[1])));
        }

        return windows;
    }

    private static DateTime ParseLimit(string windowsPath, string file, int window, JsonElement element)
    {
        var text = element.ValueKind == JsonValueKind.String ? element.GetString()! : element.ToString();
        if (!NabCsv.TryParseTimestamp(text, out var value))
        {
            throw new InvalidDataException($"{windowsPath}: '{file}' window {window} limit '{text}' is not a timestamp.");
        }

        return value;
    }
}
