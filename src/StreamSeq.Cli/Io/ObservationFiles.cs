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

    /// <summary>Largest JSON Lines record, as the worker's default <c>MaxRecordBytes</c>.</summary>
    public const int MaxRecordBytes = 1 << 20;

    /// <summary>
    /// Streams every row of the file through the processor. Malformed rows become dead letters; with
    /// <paramref name="failFast"/> the first one stops the run (returns false). A CSV header whose value columns do
    /// not match the model's observation (or control) dimension fails at once, naming the columns.
    /// </summary>
    /// <exception cref="FormatException">The CSV header is missing, malformed or does not fit the model.</exception>
    public static bool Replay(string path, StreamProcessor processor, StateStore store, IRecordSink sink, bool failFast, Action<long>? progress = null, IReadOnlyCollection<string>? controlColumns = null)
    {
        ArgumentNullException.ThrowIfNull(processor);
        var name = Path.GetFileName(path);
        var length = new FileInfo(path).Length;
        var failed = false;
        var guard = new FailFastSink(sink, () => failed = true);
        var target = failFast ? guard : sink;
        var model = processor.Router.Models.Count == 1 ? processor.Router.Models.Values.Single() : null;
        if (IsJsonLines(path))
        {
            using var reader = new JsonLinesReader(File.OpenRead(path), MaxRecordBytes);
            while (reader.Read(out var line, out var problem))
            {
                var position = SourcePosition.FileLine(name, reader.Line);
                if (problem is not null)
                {
                    // A line that is not UTF-8 is kept as it is (the dead letter gives it in base64); one too long is not kept.
                    target.DeadLetter(new DeadLetter(reader.LastLineTooLong ? DeadLetterReason.TooLarge : DeadLetterReason.Unparseable, problem, position, default, line));
                }
                else if (!IsBlank(line))
                {
                    processor.ProcessEncoded(line, default, double.NaN, default, position, store, target);
                }

                if (failed)
                {
                    return false;
                }

                if ((reader.Line & 1023) == 0)
                {
                    progress?.Invoke(reader.Position);
                }
            }
        }
        else
        {
            using var file = File.OpenRead(path);
            using var csv = OpenCsv(file, name, controlColumns);
            if (model is not null)
            {
                CheckColumns(csv, name, model.Name, model.Estimator.Info.ObservationDimension, model.Estimator.Info.ControlDimension);
            }

            target = new CsvRowSink(target, csv);

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
                    var position = SourcePosition.FileLine(name, csv.Line);
                    var prefix = $"{position}: ";
                    target.DeadLetter(new DeadLetter(csv.LastRowTooLong ? DeadLetterReason.TooLarge : DeadLetterReason.Unparseable, error!.StartsWith(prefix, StringComparison.Ordinal) ? error[prefix.Length..] : error, position, default, default));
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

    /// <summary>Opens an observation CSV file (UTF-8, or UTF-16 with a byte-order mark).</summary>
    public static CsvObservationReader OpenCsv(Stream file, string name, IReadOnlyCollection<string>? controlColumns = null) =>
        new(new StreamReader(file, Encoding.UTF8, detectEncodingFromByteOrderMarks: true), name, controlColumns);

    /// <summary>
    /// Fails when <c>--control</c> names columns of a JSON Lines file, whose records carry their control inputs in
    /// their 'control' field: the option would otherwise be ignored and the file read as if it had none.
    /// </summary>
    /// <exception cref="Commands.UsageException">Control columns were named for a JSON Lines file.</exception>
    public static void CheckControlColumnsApply(string path, IReadOnlyCollection<string>? controlColumns)
    {
        if (controlColumns is { Count: > 0 } && IsJsonLines(path))
        {
            throw new Commands.UsageException($"--control: names CSV columns, and {Path.GetFileName(path)} is JSON Lines, whose records carry control inputs in their 'control' field.");
        }
    }

    /// <summary>Fails when the CSV header's value (or control) columns do not match what the model observes.</summary>
    /// <exception cref="FormatException">The counts differ; the message names the columns and how to mark control inputs.</exception>
    public static void CheckColumns(CsvObservationReader csv, string name, string modelName, int observed, int? controls)
    {
        ArgumentNullException.ThrowIfNull(csv);
        if (csv.ValueNames.Count != observed)
        {
            var hint = csv.ValueNames.Count > observed
                ? " If some of them are control inputs, name them with --control (or start their names with control_)."
                : string.Empty;
            throw new FormatException($"{name}:1: the header has {csv.ValueNames.Count} value column{(csv.ValueNames.Count == 1 ? string.Empty : "s")} ({string.Join(", ", csv.ValueNames)}) but model '{modelName}' observes {observed}.{hint}");
        }

        if (controls is { } c && csv.ControlNames.Count > 0 && csv.ControlNames.Count != c)
        {
            throw new FormatException($"{name}:1: the header has {csv.ControlNames.Count} control column{(csv.ControlNames.Count == 1 ? string.Empty : "s")} ({string.Join(", ", csv.ControlNames)}) but model '{modelName}' takes {c} control input{(c == 1 ? string.Empty : "s")}.");
        }
    }

    /// <summary>
    /// Loads a file as one series per stream, in file order, with gaps in model time units and the control inputs
    /// of a model that takes them, for fitting. Rows the processor would reject (malformed, wrong dimension,
    /// duplicate or out-of-order time) are reported and skipped.
    /// </summary>
    public static IReadOnlyList<(string Stream, ObservationSeries Series)> LoadSeries(string path, ModelBinding model, TextWriter errors, IReadOnlyCollection<string>? controlColumns = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return LoadSeries(path, model.Name, model.Estimator.Info.ObservationDimension, model.UnitMilliseconds, errors, model.Estimator.Info.ControlDimension, controlColumns);
    }

    /// <summary>
    /// Loads a file as series for a model named <paramref name="modelName"/> that observes <paramref name="m"/>
    /// components, without building its estimator (a model being trained may have no weights yet). With
    /// <paramref name="controlDimension"/> given, rows whose control inputs do not match it are skipped as the
    /// processor rejects them, and with it &gt; 0 each series carries the rows' control inputs (a row without any
    /// has them all missing, which the filters count as 0). Null leaves control inputs unread.
    /// <paramref name="controlColumns"/> names CSV columns that are control inputs, as <c>run --control</c> does.
    /// </summary>
    public static IReadOnlyList<(string Stream, ObservationSeries Series)> LoadSeries(string path, string modelName, int m, double unitMilliseconds, TextWriter errors, int? controlDimension = null, IReadOnlyCollection<string>? controlColumns = null)
    {
        var streams = new Dictionary<string, (List<double> Values, List<double> Gaps, List<double> Controls, double Last, ulong Fingerprint)>(StringComparer.Ordinal);
        var order = new List<string>();
        var decoder = new InputRecordDecoder(numericTimeFormat: TimeFormat.ModelUnits);

        // The first rows are listed and the rest counted, as 'run' does: a file of a million readings at one time
        // listed every one of them on stderr before the fit started.
        var skipped = new RejectedRows(errors);

        void Accept(in InputRecord record)
        {
            if (record.Values.Length != m)
            {
                skipped.Report($"{record.Source}: wrong-dimension: row has {record.Values.Length} values but model '{modelName}' observes {m} (row skipped)");
                return;
            }

            if (controlDimension is { } expected && !record.Control.IsEmpty && record.Control.Length != expected)
            {
                skipped.Report(expected == 0
                    ? $"{record.Source}: wrong-dimension: row has a control input but model '{modelName}' takes none (row skipped)"
                    : $"{record.Source}: wrong-dimension: row has {record.Control.Length} control inputs but model '{modelName}' takes {expected} (row skipped)");
                return;
            }

            var id = record.StreamId.ToString();
            var t = record.Time.ToModelTime(unitMilliseconds);
            var fingerprint = InputRules.Fingerprint(record.Values, controlDimension is null ? default : record.Control);
            if (!streams.TryGetValue(id, out var entry))
            {
                entry = ([], [], [], double.NaN, 0);
                order.Add(id);
            }
            else if (t == entry.Last)
            {
                // The processor's rule: an exact repeat is a dropped duplicate, other values at the same time a conflict.
                if (fingerprint != entry.Fingerprint)
                {
                    skipped.Report($"{record.Source}: conflicting-duplicate: stream '{id}' already has a reading at this time with different values (row skipped)");
                }

                return;
            }
            else if (!(t > entry.Last))
            {
                skipped.Report($"{record.Source}: too-late: time goes backwards within stream '{id}' (row skipped)");
                return;
            }

            entry.Values.AddRange(record.Values);
            if (controlDimension is > 0 and var u)
            {
                if (record.Control.IsEmpty)
                {
                    for (var k = 0; k < u; k++)
                    {
                        entry.Controls.Add(double.NaN);
                    }
                }
                else
                {
                    entry.Controls.AddRange(record.Control);
                }
            }

            entry.Gaps.Add(double.IsNaN(entry.Last) ? 1.0 : t - entry.Last);
            entry.Last = t;
            entry.Fingerprint = fingerprint;
            streams[id] = entry;
        }

        ForEachRow(path, decoder, Accept, message => skipped.Report($"{message} (row skipped)"), csv => CheckColumns(csv, Path.GetFileName(path), modelName, m, controlDimension), controlColumns);
        if (skipped.Count > 0)
        {
            errors.WriteLine($"{Commands.Counted.Of(skipped.Count, "row")} of {TerminalText.Clean(Path.GetFileName(path))} skipped.");
        }

        return [.. order.Select(s => (s, controlDimension is > 0 and var u
            ? new ObservationSeries(m, [.. streams[s].Values], [.. streams[s].Gaps], [.. streams[s].Controls], u)
            : new ObservationSeries(m, [.. streams[s].Values], [.. streams[s].Gaps])))];
    }

    /// <summary>Receives one decoded row of an observation file.</summary>
    internal delegate void RowVisitor(in InputRecord record);

    /// <summary>
    /// Reads every row of a CSV or JSON Lines observation file in order: decoded rows go to <paramref name="accept"/>,
    /// malformed ones to <paramref name="reject"/> as "file:line: reason: message".
    /// </summary>
    internal static void ForEachRow(string path, InputRecordDecoder decoder, RowVisitor accept, Action<string> reject, Action<CsvObservationReader>? checkHeader = null, IReadOnlyCollection<string>? controlColumns = null)
    {
        var name = Path.GetFileName(path);
        if (IsJsonLines(path))
        {
            using var reader = new JsonLinesReader(File.OpenRead(path), MaxRecordBytes);
            while (reader.Read(out var line, out var problem))
            {
                var position = SourcePosition.FileLine(name, reader.Line);
                if (problem is not null)
                {
                    reject($"{position}: {(reader.LastLineTooLong ? "too-large" : "unparseable")}: {problem}");
                }
                else if (IsBlank(line))
                {
                    continue;
                }
                else if (decoder.TryDecode(line, default, double.NaN, position, out var record, out var reason, out var error))
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

        using var csv = OpenCsv(File.OpenRead(path), name, controlColumns);
        checkHeader?.Invoke(csv);
        while (true)
        {
            var status = csv.Read(out var record, out var error);
            if (status == CsvReadStatus.End)
            {
                return;
            }

            if (status == CsvReadStatus.Error)
            {
                // With its reason, as run's dead letters and the JSON Lines rows above give it.
                var position = SourcePosition.FileLine(name, csv.Line);
                var prefix = $"{position}: ";
                var message = error is null ? "unreadable row" : error.StartsWith(prefix, StringComparison.Ordinal) ? error[prefix.Length..] : error;
                reject($"{position}: {(csv.LastRowTooLong ? "too-large" : "unparseable")}: {message}");
                continue;
            }

            accept(record);
        }
    }

    private static bool IsBlank(ReadOnlySpan<byte> line) => line.Trim(" \t"u8).IsEmpty;

    /// <summary>
    /// Gives a dead letter of the CSV row being read that row's text as its original, as a JSON Lines record's dead
    /// letter has its line. Only a letter whose source is that row's line gets it (a reading released later from the
    /// re-ordering buffer is another row); the text is encoded only for a rejected row, never per row read.
    /// </summary>
    private sealed class CsvRowSink(IRecordSink inner, CsvObservationReader csv) : IRecordSink
    {
        public void Write(OutputKind kind, ReadOnlySpan<char> streamId, ReadOnlySpan<byte> record) => inner.Write(kind, streamId, record);

        public void DeadLetter(in DeadLetter letter)
        {
            var row = csv.RowText;
            if (!letter.Original.IsEmpty || row.IsEmpty || letter.Source.Partition >= 0 || letter.Source.Offset != csv.Line)
            {
                inner.DeadLetter(letter);
                return;
            }

            var original = new byte[Encoding.UTF8.GetByteCount(row)];
            Encoding.UTF8.GetBytes(row, original);
            inner.DeadLetter(new DeadLetter(letter.Reason, letter.Message, letter.Source, letter.StreamId, original));
        }
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
