using StreamSeq.Processing.Records;

namespace StreamSeq.Worker.Dashboard;

/// <summary>A record copied off the processing loop for the dashboard: an output record, or an input record when <see cref="IsInput"/>.</summary>
internal readonly record struct IngestItem(bool IsInput, OutputKind Kind, string Stream, byte[] Bytes, double Timestamp);
