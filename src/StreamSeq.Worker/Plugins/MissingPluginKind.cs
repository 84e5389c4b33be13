using StreamSeq.Estimation.Abstractions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Worker.Plugins;

/// <summary>
/// Stands for a kind whose plug-in is not installed, so that a spec naming it fails with what to install instead of
/// "unknown kind".
/// </summary>
internal sealed class MissingPluginKind(string kind, string plugin, IReadOnlyList<string> searched) : IModelKind
{
    public string Kind => kind;

    public string Description => $"Needs the {plugin} plug-in (not installed).";

    public IEstimator Build(SpecReader spec) =>
        throw new ModelValidationException(
            "kind",
            $"'{kind}' models need the {plugin} plug-in, which is not installed (looked in {string.Join(", ", searched)}): " +
            $"use the image built with deploy/Dockerfile's runtime-onnx target, or put the plug-in's folder there (docs/deploy.md).");
}
