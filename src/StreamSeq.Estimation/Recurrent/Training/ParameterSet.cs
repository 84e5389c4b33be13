using StreamSeq.Estimation.Particles;

namespace StreamSeq.Estimation.Recurrent.Training;

/// <summary>The trainable tensors of a network laid out in one flat vector θ, under their PyTorch names.</summary>
internal sealed class ParameterSet
{
    private readonly List<ParameterTensor> tensors = [];

    /// <summary>Total number of parameters.</summary>
    public int Count { get; private set; }

    public IReadOnlyList<ParameterTensor> Tensors => tensors;

    /// <summary>Adds a tensor initialised uniformly in ±<paramref name="bound"/>; returns its offset in θ.</summary>
    public int Add(string name, double bound, params int[] shape)
    {
        var length = 1;
        foreach (var d in shape)
        {
            length *= d;
        }

        var offset = Count;
        tensors.Add(new ParameterTensor(name, shape, offset, length, bound));
        Count += length;
        return offset;
    }

    /// <summary>Fills θ with uniform draws in ±bound per tensor (PyTorch's defaults: 1/√H for recurrent layers,
    /// 1/√fan-in for the linear head).</summary>
    public void Initialize(Span<double> theta, ref ParticleRandom random)
    {
        foreach (var t in tensors)
        {
            for (var i = 0; i < t.Length; i++)
            {
                theta[t.Offset + i] = t.Bound * ((2.0 * random.NextDouble()) - 1.0);
            }
        }
    }

    /// <summary>Copies every tensor from a state dictionary (shape-checked; errors name the tensor).</summary>
    public void Import(StateDictionary weights, Span<double> theta)
    {
        foreach (var t in tensors)
        {
            weights.GetValues<double>(t.Name, t.Shape).CopyTo(theta.Slice(t.Offset, t.Length));
        }
    }

    /// <summary>The tensors of θ as a state dictionary in double precision.</summary>
    public StateDictionary Export(ReadOnlySpan<double> theta, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var list = new List<NamedTensor>(tensors.Count);
        foreach (var t in tensors)
        {
            list.Add(NamedTensor.Create<double>(t.Name, t.Shape, theta.Slice(t.Offset, t.Length)));
        }

        return new StateDictionary(list, metadata);
    }
}
