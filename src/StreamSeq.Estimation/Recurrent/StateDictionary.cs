using System.Collections;
using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace StreamSeq.Estimation.Recurrent;

/// <summary>
/// An immutable, ordered set of named tensors: the counterpart of a PyTorch <c>state_dict</c>, as read from or
/// written to safetensors files (<see cref="SafeTensorsFormat"/>) or the JSON weight dumps
/// (<see cref="TorchJsonFormat"/>).
/// </summary>
public sealed class StateDictionary : IReadOnlyDictionary<string, NamedTensor>
{
    private readonly NamedTensor[] ordered;
    private readonly Dictionary<string, NamedTensor> byName;

    /// <summary>Initializes a new instance of the <see cref="StateDictionary"/> class.</summary>
    /// <param name="tensors">The tensors, in the order they are to be written; names must be unique.</param>
    /// <param name="metadata">Optional free-form string metadata (safetensors <c>__metadata__</c>).</param>
    /// <param name="source">Where the tensors came from (e.g. a file path), quoted in load errors.</param>
    /// <exception cref="ArgumentException">Two tensors share a name.</exception>
    public StateDictionary(IEnumerable<NamedTensor> tensors, IReadOnlyDictionary<string, string>? metadata = null, string? source = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ordered = tensors.ToArray();
        byName = new Dictionary<string, NamedTensor>(ordered.Length, StringComparer.Ordinal);
        foreach (var t in ordered)
        {
            ArgumentNullException.ThrowIfNull(t, nameof(tensors));
            if (!byName.TryAdd(t.Name, t))
            {
                throw new ArgumentException($"Tensor name '{t.Name}' appears twice{Where(source)}.", nameof(tensors));
            }
        }

        Metadata = metadata is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : new Dictionary<string, string>(metadata, StringComparer.Ordinal);
        Source = source;
    }

    /// <summary>Gets the free-form string metadata.</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Gets where the tensors came from (e.g. a file path), or <see langword="null"/>.</summary>
    public string? Source { get; }

    /// <summary>Gets the tensors in their stored order.</summary>
    public IReadOnlyList<NamedTensor> Tensors => ordered;

    /// <inheritdoc/>
    public int Count => ordered.Length;

    /// <inheritdoc/>
    public IEnumerable<string> Keys => ordered.Select(t => t.Name);

    /// <inheritdoc/>
    public IEnumerable<NamedTensor> Values => ordered;

    /// <inheritdoc/>
    public NamedTensor this[string key] =>
        byName.TryGetValue(key, out var t) ? t : throw new KeyNotFoundException($"Tensor '{key}' is missing{Where(Source)}.");

    /// <inheritdoc/>
    public bool ContainsKey(string key) => byName.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out NamedTensor value) => byName.TryGetValue(key, out value);

    /// <summary>
    /// Returns the values of tensor <paramref name="name"/> converted to <typeparamref name="T"/>, after checking that
    /// it exists and has exactly the <paramref name="expectedShape"/>.
    /// </summary>
    /// <typeparam name="T">The element type wanted.</typeparam>
    /// <param name="name">The tensor's name.</param>
    /// <param name="expectedShape">The dimensions the tensor must have.</param>
    /// <returns>The elements in row-major order.</returns>
    /// <exception cref="InvalidDataException">The tensor is missing or misshaped; the message names the tensor and the
    /// expected shape.</exception>
    public T[] GetValues<T>(string name, params ReadOnlySpan<int> expectedShape)
        where T : INumberBase<T>
    {
        if (!byName.TryGetValue(name, out var tensor))
        {
            throw new InvalidDataException(
                $"Tensor '{name}' is missing{Where(Source)}; expected shape {NamedTensor.FormatShape(expectedShape)}.");
        }

        if (!tensor.HasShape(expectedShape))
        {
            throw new InvalidDataException(
                $"Tensor '{name}'{Where(Source)} has shape {NamedTensor.FormatShape(tensor.Shape.ToArray())}; expected shape {NamedTensor.FormatShape(expectedShape)}.");
        }

        return tensor.ToArray<T>();
    }

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, NamedTensor>> GetEnumerator() =>
        ordered.Select(t => new KeyValuePair<string, NamedTensor>(t.Name, t)).GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static string Where(string? source) => source is null ? string.Empty : $" in '{source}'";
}
