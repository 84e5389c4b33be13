namespace StreamSeq.Cli.Io;

/// <summary>Reports progress on the calling thread, in order (unlike <see cref="Progress{T}"/>, which posts to
/// the thread pool when there is no synchronisation context).</summary>
internal sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}
