namespace StreamSeq.Estimation.Gaussian.Adaptive;

/// <summary>
/// A split of a linear Gaussian model into independent blocks of one or two states, each observed by exactly one
/// component: F, Q (every learned rate's B_j too), the prior and R have no entry linking two blocks, and each
/// observation row reads one block. The axes of a constant-velocity model in d dimensions are such blocks, and so are
/// the levels of a multi-dimensional local level. The filter, its tangents and the log-likelihood then decompose
/// block by block (S is diagonal), which the adaptive filter uses to step such models cheaply.
/// </summary>
internal sealed class IndependentBlocks
{
    private IndependentBlocks(int[] first, int[] second, int[] observation, int[][] active)
    {
        First = first;
        Second = second;
        Observation = observation;
        Active = active;
    }

    /// <summary>The first state of each block.</summary>
    public int[] First { get; }

    /// <summary>The second state of each block, −1 for a one-state block.</summary>
    public int[] Second { get; }

    /// <summary>The observation component that reads each block.</summary>
    public int[] Observation { get; }

    /// <summary>The learned parameters that act on each block (the others' tangents stay zero there).</summary>
    public int[][] Active { get; }

    /// <summary>Number of blocks.</summary>
    public int Count => First.Length;

    /// <summary>The blocks of <paramref name="noise"/>'s model, or null when it does not split into at least two.</summary>
    public static IndependentBlocks? TryFind(LinearNoiseParameters noise)
    {
        ArgumentNullException.ThrowIfNull(noise);
        var model = noise.Model;
        var n = model.StateDimension;
        var m = model.ObservationDimension;
        if (m < 2 || n > 2 * m)
        {
            return null;
        }

        // Entries that can link two states: F, Q_fixed and each B_j at two gaps, and the prior.
        var linked = new bool[n * n];
        var f = new double[n * n];
        var q = new double[n * n];
        var c = new double[n];
        foreach (var gap in (double[])[1.0, 0.37])
        {
            Mark(noise.FixedDynamics, gap, f, q, c, linked, n);
            foreach (var basis in noise.Bases)
            {
                Mark(basis, gap, f, q, c, linked, n);
            }
        }

        for (var i = 0; i < n * n; i++)
        {
            linked[i] |= model.InitialCovariance[i] != 0.0 || model.InitialDiffuse[i] != 0.0;
        }

        // Connected components of the states.
        var component = new int[n];
        Array.Fill(component, -1);
        var count = 0;
        for (var s = 0; s < n; s++)
        {
            if (component[s] >= 0)
            {
                continue;
            }

            var stack = new Stack<int>([s]);
            component[s] = count;
            while (stack.Count > 0)
            {
                var i = stack.Pop();
                for (var j = 0; j < n; j++)
                {
                    if ((linked[(i * n) + j] || linked[(j * n) + i]) && component[j] < 0)
                    {
                        component[j] = count;
                        stack.Push(j);
                    }
                }
            }

            count++;
        }

        if (count < 2)
        {
            return null;
        }

        // Each block: one or two states, exactly one observation row reading it and no row reading two blocks.
        var first = new int[count];
        var second = new int[count];
        var observation = new int[count];
        Array.Fill(first, -1);
        Array.Fill(second, -1);
        Array.Fill(observation, -1);
        for (var s = 0; s < n; s++)
        {
            var b = component[s];
            if (first[b] < 0)
            {
                first[b] = s;
            }
            else if (second[b] < 0)
            {
                second[b] = s;
            }
            else
            {
                return null;
            }
        }

        var h = model.Observation;
        var r = model.ObservationNoise;
        for (var i = 0; i < m; i++)
        {
            var block = -1;
            for (var s = 0; s < n; s++)
            {
                if (h[(i * n) + s] == 0.0)
                {
                    continue;
                }

                if (block >= 0 && component[s] != block)
                {
                    return null;
                }

                block = component[s];
            }

            if (block < 0 || observation[block] >= 0)
            {
                return null;
            }

            observation[block] = i;
            for (var j = 0; j < m; j++)
            {
                if (j != i && r[(i * m) + j] != 0.0)
                {
                    return null;
                }
            }
        }

        if (observation.Any(o => o < 0))
        {
            return null;
        }

        // Which learned parameters act on each block.
        var active = new int[count][];
        for (var b = 0; b < count; b++)
        {
            var list = new List<int>();
            for (var j = 0; j < noise.RateCount; j++)
            {
                Array.Clear(q);
                noise.Bases[j].Discretize(1.0, f, q, c);
                var s0 = first[b];
                var s1 = second[b] < 0 ? s0 : second[b];
                if (q[(s0 * n) + s0] != 0.0 || q[(s0 * n) + s1] != 0.0 || q[(s1 * n) + s1] != 0.0)
                {
                    list.Add(j);
                }
            }

            var slot = noise.ObservationSlot[observation[b]];
            if (noise.Modes[observation[b]] == LinearNoiseParameters.ObservationMode.RecursiveMaximumLikelihood)
            {
                list.Add(slot);
            }

            active[b] = [.. list];
        }

        return new IndependentBlocks(first, second, observation, active);
    }

    private static void Mark(ILinearDynamics dynamics, double gap, double[] f, double[] q, double[] c, bool[] linked, int n)
    {
        Array.Clear(f);
        Array.Clear(q);
        Array.Clear(c);
        dynamics.Discretize(gap, f, q, c);
        for (var i = 0; i < n * n; i++)
        {
            linked[i] |= f[i] != 0.0 || q[i] != 0.0;
        }
    }
}
