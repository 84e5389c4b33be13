using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Recurrent;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Estimation.Onnx;

/// <summary>
/// The <c>onnx-recurrent</c> spec kind: an exported recurrent graph (see <see cref="OnnxRecurrentModel"/>) run by ONNX
/// Runtime as a deterministic state-space model, for nets the managed cells do not cover. Register it at start-up with
/// <c>ModelCatalog.Register(new OnnxRecurrentKind())</c> (the CLI and the worker do).
/// </summary>
/// <remarks>
/// Fields: <c>model</c> (the .onnx file, relative to the spec file), optional <c>tensors</c>
/// (<c>{"input":"x","initialHidden":"h0","initialCell":"c0","output":"y","finalHidden":"hn","finalCell":"cn"}</c>, these
/// are the defaults), and the layout and estimator fields of the <c>recurrent</c> kind: <c>controlDimension</c>,
/// <c>head</c> (how to read the graph's output <c>y</c>: Gaussian with a covariance form, or point with a variance),
/// <c>normalization</c>, <c>controlNormalization</c>, <c>initialObservation</c>, <c>state</c> and
/// <c>forecastSamples</c>. The input, hidden and output sizes come from the graph.
/// </remarks>
/// <example>
/// <code>{"name":"net","kind":"onnx-recurrent","model":"lstm_model.onnx","controlDimension":1,
///  "head":{"type":"point","variance":[0.1,0.1]}}</code>
/// </example>
public sealed class OnnxRecurrentKind : IModelKind
{
    /// <inheritdoc />
    public string Kind => "onnx-recurrent";

    /// <inheritdoc />
    public string Description => "A recurrent graph exported to ONNX (e.g. torch.onnx.export of an LSTM/GRU with a head), stepped by ONNX Runtime with the state fed in and out, as a deterministic state-space model.";

    /// <inheritdoc />
    public SpecShape Fields { get; } = SpecShape.Of("model")
        .Nest("tensors", SpecShape.Of("input", "initialHidden", "initialCell", "output", "finalHidden", "finalCell"))
        .With(RecurrentSpec.LayoutShape)
        .With(RecurrentSpec.EstimatorShape);

    /// <inheritdoc />
    public IEstimator Build(SpecReader spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var path = spec.FilePath("model");
        if (!File.Exists(path))
        {
            throw spec.Error("model", $"ONNX file '{path}' not found.");
        }

        var options = ReadTensorNames(spec.OptionalObject("tensors"));
        OnnxRecurrentBackend backend;
        try
        {
            backend = new OnnxRecurrentBackend(path, options);
        }
        catch (Exception e) when (e is InvalidDataException or Microsoft.ML.OnnxRuntime.OnnxRuntimeException)
        {
            throw spec.Error("model", e.Message);
        }

        try
        {
            var layout = RecurrentSpec.ReadLayout(spec, backend.InputSize);
            return RecurrentSpec.BuildEstimator(spec, backend, RecurrentSpec.ReadInitialState(spec, layout, backend), Kind);
        }
        catch
        {
            backend.Dispose();
            throw;
        }
    }

    private static OnnxRecurrentModelOptions ReadTensorNames(SpecReader? tensors)
    {
        if (tensors is null)
        {
            return new OnnxRecurrentModelOptions();
        }

        var defaults = new OnnxRecurrentModelOptions();
        return new OnnxRecurrentModelOptions
        {
            InputName = tensors.OptionalString("input") ?? defaults.InputName,
            InitialHiddenName = tensors.OptionalString("initialHidden") ?? defaults.InitialHiddenName,
            InitialCellName = tensors.OptionalString("initialCell") ?? defaults.InitialCellName,
            OutputName = tensors.OptionalString("output") ?? defaults.OutputName,
            FinalHiddenName = tensors.OptionalString("finalHidden") ?? defaults.FinalHiddenName,
            FinalCellName = tensors.OptionalString("finalCell") ?? defaults.FinalCellName,
        };
    }
}
