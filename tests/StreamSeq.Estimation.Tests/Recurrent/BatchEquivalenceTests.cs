using System.Numerics;
using StreamSeq.Estimation.Recurrent;

namespace StreamSeq.Estimation.Tests.Recurrent;

/// <summary>The batched step gives exactly the values of independent single-stream steps, for every cell and for sizes
/// that exercise every tile shape of the matrix kernel.</summary>
public sealed class BatchEquivalenceTests
{
    public static TheoryData<RecurrentCellKind, int, int, int, int> Shapes => new()
    {
        { RecurrentCellKind.Lstm, 3, 64, 1, 37 },
        { RecurrentCellKind.Lstm, 7, 13, 2, 9 },
        { RecurrentCellKind.PeepholeLstm, 4, 10, 2, 6 },
        { RecurrentCellKind.Gru, 3, 64, 1, 21 },
        { RecurrentCellKind.Gru, 5, 9, 3, 5 },
        { RecurrentCellKind.Elman, 2, 33, 2, 11 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void StepBatch_Double_EqualsSingleStreamSteps(RecurrentCellKind kind, int inputSize, int hidden, int layers, int batch) =>
        Check<double>(kind, inputSize, hidden, layers, batch);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void StepBatch_Single_EqualsSingleStreamSteps(RecurrentCellKind kind, int inputSize, int hidden, int layers, int batch) =>
        Check<float>(kind, inputSize, hidden, layers, batch);

    internal static RecurrentNetwork<T> Create<T>(RecurrentCellKind kind, StateDictionary weights, int inputSize, int hidden, int layers)
        where T : unmanaged, IFloatingPointIeee754<T> => kind switch
        {
            RecurrentCellKind.Lstm => new LstmNetwork<T>(weights, inputSize, hidden, layers),
            RecurrentCellKind.PeepholeLstm => new PeepholeLstmNetwork<T>(weights, inputSize, hidden, layers),
            RecurrentCellKind.Gru => new GruNetwork<T>(weights, inputSize, hidden, layers),
            _ => new ElmanNetwork<T>(weights, inputSize, hidden, layers),
        };

    internal static int Gates(RecurrentCellKind kind) => kind switch
    {
        RecurrentCellKind.Gru => 3,
        RecurrentCellKind.Elman => 1,
        _ => 4,
    };

    private static void Check<T>(RecurrentCellKind kind, int inputSize, int hidden, int layers, int batch)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var weights = RandomWeights.Create(31, Gates(kind), inputSize, hidden, layers, kind == RecurrentCellKind.PeepholeLstm, scale: 0.3);
        var network = Create<T>(kind, weights, inputSize, hidden, layers);
        var random = new Random(41);
        var s = network.StateLength;
        var batchStates = RandomWeights.Vector(random, batch * s, 0.5).Select(T.CreateChecked).ToArray();
        var singleStates = (T[])batchStates.Clone();
        for (var t = 0; t < 5; t++)
        {
            var x = RandomWeights.Vector(random, batch * inputSize, 2.0).Select(T.CreateChecked).ToArray();
            network.StepBatch(batch, x, batchStates);
            for (var b = 0; b < batch; b++)
            {
                network.Step(x.AsSpan(b * inputSize, inputSize), singleStates.AsSpan(b * s, s));
            }

            Assert.Equal(singleStates, batchStates);
        }
    }
}
