using System.Text;
using StreamSeq.Estimation.Abstractions;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.State;

namespace StreamSeq.Cli.Io;

/// <summary>Feeds observation files (CSV or JSON Lines) to the processor, or loads them as series for fitting.</summary>
internal static class ObservationFiles
{
    public static bool IsJsonLines(string path) =>
        path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Streams every row of the file through the processor. Malformed rows become dead letters; with
    /// <paramref name="failFast"/> the first one stops the run (returns false).
    /// </summary>
    public static bool Replay(string path, StreamProcessor processor, StateStore store, IRecordSink sink, bool failFast, Action<long>? progress = null)
    {
        using var file = File.OpenRead(path);
        var length = file.Length;
        var name = Path.GetFileName(path);
        var failed = false;
        var guard = new FailFastSink(sink, () => failed = true);
        var target = failFast ? guard : sink;
        if (IsJsonLines(path))
        {
            using var reader = new StreamReader(file, Encoding.UTF8);
            long line = 0;
            var bytes = new byte[4096];
            while (reader.ReadLine() is { } text)
            {
                line++;
                if (text.Length == 0)
                {
                    continue;
                }

                var count = Encoding.UTF8.GetByteCount(text);
                if (count > bytes.Length)
                {
                    bytes = new byte[Math.Max(count, bytes.Length * 2)];
                }

                Encoding.UTF8.GetBytes(text, bytes);
                processor.ProcessEncoded(bytes.AsSpan(0, count), default, double.NaN, default, SourcePosition.FileLine(name, line), store, target);
                if (failed)
                {
                    return false;
                }

                if ((line & 1023) == 0)
                {
                    progress?.Invoke(file.Position);
                }
            }
        }
        else
        {
            using var csv = new CsvObservationReader(new StreamReader(file, Encoding.UTF8), name);
            long rows = 0;
            while (true)
            {
                var status = csv.Read(out var record, out var error);
                if (status == CsvReadStatus.End)
                {
                    break;
                }

                if (status == CsvReadStatus.Error)
                {
                    var position = ParseLine(error!, name);
                    target.DeadLetter(new DeadLetter(DeadLetterReason.Unparseable, error!, position, default, default));
                    if (failed)
                    {
                        return false;
                    }

                    continue;
                }

                processor.Process(record, store, target);
                if (failed)
                {
                    return false;
                }

                if ((++rows & 1023) == 0)
                {
                    progress?.Invoke(Math.Min(file.Position, length));
                }
            }
        }

        progress?.Invoke(length);
        return true;
    }

    /// <summary>
    /// Loads a file as one series per stream, in file order, with gaps in model time units, for fitting. Rows the
    /// processor would reject (malformed, wrong dimension, duplicate or out-of-order time) are reported and skipped.
    /// </summary>
    public static IReadOnlyList<(string Stream, ObservationSeries Series)> LoadSeries(string path, ModelBinding model, TextWriter errors)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LoadSeries(path, model.Name, model.Estimator.Info.ObservationDimension, model.UnitMilliseconds, errors);
    }

    /// <summary>
    /// Loads a file as series for a model named <paramref name="modelName"/> that observes <paramref name="m"/>
    /// components, without building its estimator (a model being trained may have no weights yet).
    /// </summary>
    public static IReadOnlyList<(string Stream, ObservationSeries Series)> LoadSeries(string path, string modelName, int m, double unitMilliseconds, TextWriter errors)
    {
        var streams = new Dictionary<string, (List<double> Values, List<double> Gaps, double Last)>(StringComparer.Ordinal);
        var order = new List<string>();
        var decoder = new InputRecordDecoder(numericTimeFormat: TimeFormat.ModelUnits);

        void Accept(in InputRecord record)
        {
            if (record.Values.Length != m)
            {
                errors.WriteLine($"{record.Source}: wrong-dimension: row has {record.Values.Length} values but model '{modelName}' observes {m} (row skipped)");
                return;
            }

            var id = record.StreamId.ToString();
            var t = record.Time.ToModelTime(unitMilliseconds);
            if (!streams.TryGetValue(id, out var entry))
            {
                entry = ([], [], double.NaN);
                order.Add(id);
            }
            else if (!(t > entry.Last))
            {
                errors.WriteLine($"{record.Source}: {(t == entry.Last ? "duplicate" : "too-late")}: time does not increase within stream '{id}' (row skipped)");
                return;
            }

            entry.Values.AddRange(record.Values);
            entry.Gaps.Add(double.IsNaN(entry.Last) ? 1.0 : t - entry.Last);
            entry.Last = t;
            streams[id] = entry;
        }

        ForEachRow(path, decoder, Accept, message => errors.WriteLine($"{message} (row skipped)"));

        return [.. order.Select(s => (s, new ObservationSeries(m, [.. streams[s].Values], [.. streams[s].Gaps])))];
    }

    /// <summary>Receives one decoded row of an observation file.</summary>
    internal delegate void RowVisitor(in InputRecord record);

    /// <summary>
    /// Reads every row of a CSV or JSON Lines observation file in order: decoded rows go to <paramref name="accept"/>,
    /// malformed ones to <paramref name="reject"/> as "file:line: reason: message".
    /// </summary>
    internal static void ForEachRow(string path, InputRecordDecoder decoder, RowVisitor accept, Action<string> reject)
    {
        var name = Path.GetFileName(path);
        if (IsJsonLines(path))
        {
            long line = 0;
            foreach (var text in File.ReadLines(path))
            {
                line++;
                if (string.IsNullOrWhiteSpace(text))
                {
                    continue;
                }

                var position = SourcePosition.FileLine(name, line);
                if (decoder.TryDecode(Encoding.UTF8.GetBytes(text), default, double.NaN, position, out var record, out var reason, out var error))
                {
                    accept(record);
                }
                else
                {
                    reject($"{position}: {DeadLetterReasons.Name(reason)}: {error}");
                }
            }

            return;
        }

        using var csv = new CsvObservationReader(new StreamReader(path, Encoding.UTF8), name);
        while (true)
        {
            var status = csv.Read(out var record, out var error);
            if (status == CsvReadStatus.End)
            {
                return;
            }

            if (status == CsvReadStatus.Error)
            {
                reject(error ?? $"{name}: unreadable row");
                continue;
            }

            accept(record);
        }
    }

    private static SourcePosition ParseLine(string error, string name)
    {
        var start = name.Length + 1;
        var end = error.IndexOf(':', start);
        return long.TryParse(error.AsSpan(start, Math.Max(0, end - start)), out var line) ? SourcePosition.FileLine(name, line) : SourcePosition.FileLine(name, 0);
    }

    private sealed class FailFastSink(IRecordSink inner, Action onFailure) : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record) => inner.Write(kind, streamId, record);

        public void DeadLetter(in DeadLetter letter)
        {
            inner.DeadLetter(letter);
            onFailure();
        }
    }
}
