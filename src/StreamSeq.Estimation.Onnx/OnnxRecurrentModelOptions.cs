namespace StreamSeq.Estimation.Onnx;

/// <summary>Options for <see cref="OnnxRecurrentModel"/>: ONNX Runtime threading and the graph's tensor names.</summary>
public sealed class OnnxRecurrentModelOptions
{
    /// <summary>Gets the number of threads ONNX Runtime may use inside one step (default 1: streams are parallelised by
    /// the caller, not inside a step).</summary>
    public int IntraOpThreads { get; init; } = 1;

    /// <summary>Gets the name of the input sequence [batch, seq, input] (default <c>x</c>).</summary>
    public string InputName { get; init; } = "x";

    /// <summary>Gets the name of the initial hidden state [layers, batch, hidden] (default <c>h0</c>).</summary>
    public string InitialHiddenName { get; init; } = "h0";

    /// <summary>Gets the name of the initial cell state, used when the graph has it (default <c>c0</c>).</summary>
    public string InitialCellName { get; init; } = "c0";

    /// <summary>Gets the name of the head output [batch, seq, output], used when the graph has it (default <c>y</c>).</summary>
    public string OutputName { get; init; } = "y";

    /// <summary>Gets the name of the final hidden state (default <c>hn</c>).</summary>
    public string FinalHiddenName { get; init; } = "hn";

    /// <summary>Gets the name of the final cell state, used when the graph has it (default <c>cn</c>).</summary>
    public string FinalCellName { get; init; } = "cn";
}
