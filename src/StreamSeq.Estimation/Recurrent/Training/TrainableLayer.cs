namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>
/// One recurrent layer of the training engine: a forward step that can record what its backward step needs (the
/// tape, one slot per time step of a chunk), and the backward step that accumulates parameter gradients.
/// </summary>
/// <remarks>Weights are read from the flat parameter vector θ at the offsets the layer registered; the layer's
/// state slice is [h] or [h, c] as in <see cref="RecurrentNetwork{T}"/>.</remarks>
internal abstract class TrainableLayer
{
    private readonly int slot;
    private double[] tape = [];

    /// <param name="inputWidth">Width of the layer's input.</param>
    /// <param name="hidden">Hidden size H.</param>
    /// <param name="slotWidth">Values the forward step records per time step for the backward step.</param>
    private protected TrainableLayer(int inputWidth, int hidden, int slotWidth)
    {
        InputWidth = inputWidth;
        Hidden = hidden;
        slot = slotWidth;
    }

    public int InputWidth { get; }

    public int Hidden { get; }

    /// <summary>H, or 2H for cells with a c vector.</summary>
    public abstract int StateWidth { get; }

    /// <summary>Makes room on the tape for <paramref name="steps"/> time steps.</summary>
    public void EnsureCapacity(int steps)
    {
        if (tape.Length < steps * slot)
        {
            tape = new double[steps * slot];
        }
    }

    /// <summary>Advances the layer's state slice in place; records slot <paramref name="t"/> of the tape when t ≥ 0.</summary>
    public abstract void Forward(ReadOnlySpan<double> theta, ReadOnlySpan<double> x, Span<double> state, int t);

    /// <summary>
    /// Back-propagates step <paramref name="t"/>: <paramref name="dh"/> is ∂L/∂h_t (all paths), <paramref name="dc"/> on
    /// entry ∂L/∂c_t from later steps and on return ∂L/∂c_{t-1} (LSTMs only); writes ∂L/∂x_t and ∂L/∂h_{t-1} (through
    /// this step) and adds the parameter gradients to <paramref name="gradient"/>.
    /// </summary>
    public abstract void Backward(ReadOnlySpan<double> theta, Span<double> gradient, int t, ReadOnlySpan<double> dh, Span<double> dc, Span<double> dx, Span<double> dhPrevious);

    /// <summary>Slot <paramref name="t"/> of the tape; empty when t &lt; 0 (a forward step that records nothing).</summary>
    private protected Span<double> TapeSlot(int t) => t >= 0 ? tape.AsSpan(t * slot, slot) : default;
}
