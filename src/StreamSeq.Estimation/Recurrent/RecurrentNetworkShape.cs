namespace StreamSeq.Estimation.Recurrent;

/// <summary>The shape of a recurrent network as a spec describes it (its weights come separately).</summary>
/// <param name="Cell">The cell type of every layer.</param>
/// <param name="InputSize">Length of x_t.</param>
/// <param name="HiddenSize">Hidden units per layer.</param>
/// <param name="Layers">Stacked layers.</param>
/// <param name="SinglePrecision">True to compute in float.</param>
/// <param name="Activation">The Elman nonlinearity (other cells ignore it).</param>
public sealed record RecurrentNetworkShape(RecurrentCellKind Cell, int InputSize, int HiddenSize, int Layers, bool SinglePrecision, ElmanActivation Activation = ElmanActivation.Tanh)
{
    /// <summary>Logical state length: h (and c for LSTMs) of every layer.</summary>
    public int StateSize => Layers * HiddenSize * (Cell is RecurrentCellKind.Lstm or RecurrentCellKind.PeepholeLstm ? 2 : 1);
}
