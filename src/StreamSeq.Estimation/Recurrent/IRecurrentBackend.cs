namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// A recurrent network with its linear read-out, as <see cref="RecurrentEstimator"/> steps it: the input x_t and a
/// stream's stored state in; the new state and the raw head output u_t = head(h_t) out.
/// </summary>
/// <remarks>
/// <para>The logical state is <see cref="StateSize"/> doubles in the layout of <see cref="RecurrentNetwork{T}"/>
/// (for each layer h, then c for LSTMs). A stream stores it in <see cref="StorageLength"/> doubles in whatever form
/// the backend computes in (single-precision values are packed two to a double by bit reinterpretation, so a
/// copied buffer continues bit for bit). All-zero storage is the zero state.</para>
/// <para>Implementations must be safe to call from several threads at once for different storage buffers and
/// must not allocate per step in steady state.</para>
/// </remarks>
public interface IRecurrentBackend
{
    /// <summary>A short name of the network type written into output records, for example <c>lstm</c>.</summary>
    string Name { get; }

    /// <summary>Length of an input vector x_t.</summary>
    int InputSize { get; }

    /// <summary>Length S of the logical state (h and c of every layer).</summary>
    int StateSize { get; }

    /// <summary>Offset of the top layer's hidden vector (the network output) in the logical state.</summary>
    int OutputHiddenOffset { get; }

    /// <summary>Number of hidden units of the top layer.</summary>
    int OutputHiddenSize { get; }

    /// <summary>Length of the raw head output u_t.</summary>
    int OutputSize { get; }

    /// <summary>Doubles a stream needs to store its state.</summary>
    int StorageLength { get; }

    /// <summary>Advances a stored state by one step and evaluates the head on the new top hidden vector.</summary>
    /// <param name="input">x_t, <see cref="InputSize"/> values.</param>
    /// <param name="storage">The stream's stored state, updated in place.</param>
    /// <param name="output">Receives u_t = head(h_t), <see cref="OutputSize"/> values.</param>
    void Step(ReadOnlySpan<double> input, Span<double> storage, Span<double> output);

    /// <summary>Writes the logical state held in <paramref name="storage"/> as doubles.</summary>
    void ReadState(ReadOnlySpan<double> storage, Span<double> state);

    /// <summary>Stores a logical state (rounded to the backend's precision).</summary>
    void WriteState(ReadOnlySpan<double> state, Span<double> storage);
}
