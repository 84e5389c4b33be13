namespace StreamSeq.Processing.State;

/// <summary>
/// The committed serialised states of one partition, kept outside the heap (a disk-backed store). A
/// <see cref="StateStore"/> built over it holds only a bounded cache of live streams and reads the others from here.
/// </summary>
/// <remarks>
/// It holds only states that a committed transaction wrote to the changelog: the transport writes them after the
/// commit succeeded. A state changed since then stays in the store's memory until the next commit, so an abort never
/// has to undo anything here.
/// </remarks>
public interface ICommittedStates
{
    /// <summary>Reads a stream's committed serialised state; false when the stream has none.</summary>
    /// <param name="streamId">The stream id.</param>
    /// <param name="data">The serialised state (<see cref="StreamStateCodec"/>).</param>
    bool TryRead(ReadOnlySpan<char> streamId, out byte[] data);
}
