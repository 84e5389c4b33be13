namespace StreamSeq.Processing.Processor;

/// <summary>A model threw while stepping a stream (<see cref="StreamProcessor.StreamFailed"/>).</summary>
/// <param name="StreamId">The stream, whose state was discarded: it started again from its model's prior.</param>
/// <param name="Model">The stream's model.</param>
/// <param name="Error">What the model threw on the stream's state.</param>
/// <param name="RecordRejected">
/// Whether the record failed from the prior too and was dead-lettered; false when it was stepped from the prior, which
/// means the discarded state was at fault.
/// </param>
public sealed record StreamFailure(string StreamId, string Model, Exception Error, bool RecordRejected);
