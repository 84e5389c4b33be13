namespace StreamSeq.Estimation.Recurrent;

/// <summary>The recurrent cell a <see cref="RecurrentNetwork{T}"/> is built from.</summary>
public enum RecurrentCellKind
{
    /// <summary>Long short-term memory with PyTorch semantics (<see cref="LstmNetwork{T}"/>).</summary>
    Lstm,

    /// <summary>LSTM with diagonal peephole connections after Gers et al. (<see cref="PeepholeLstmNetwork{T}"/>).</summary>
    PeepholeLstm,

    /// <summary>Gated recurrent unit with PyTorch semantics (<see cref="GruNetwork{T}"/>).</summary>
    Gru,

    /// <summary>Elman network, PyTorch's <c>nn.RNN</c> (<see cref="ElmanNetwork{T}"/>).</summary>
    Elman,
}
