using System.Text.Json;
using System.Text.RegularExpressions;
using StreamSeq.Estimation.Specs;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Says why a settings file (<c>appsettings.json</c>, or the one the Helm chart mounts over it) cannot be read, in one
/// line naming the file and the place: the host builder reads it before the worker's own checks run and failed with an
/// unhandled exception (exit 134 and a 25-line stack trace, a crash loop in Kubernetes).
/// </summary>
public static partial class ConfigurationFiles
{
    /// <summary>
    /// A line for settings that did not validate when the folder the worker started in (its content root) has no
    /// <c>appsettings.json</c> but the worker's own folder has the shipped one: <c>dotnet /opt/streamseq/StreamSeq.Worker.dll</c>
    /// run from another folder read no settings file, and said only that no broker list (or no model) was configured,
    /// with nothing to tell the user that the demo's models and routes had not been read. Null otherwise.
    /// </summary>
    /// <param name="contentRoot">The folder settings files are read from.</param>
    /// <param name="appFolder">The folder of the worker's assembly.</param>
    public static string? ShippedFileNotRead(string contentRoot, string appFolder)
    {
        ArgumentNullException.ThrowIfNull(contentRoot);
        ArgumentNullException.ThrowIfNull(appFolder);
        var shipped = Path.Combine(appFolder, "appsettings.json");
        // Started in its own folder, the worker has read the shipped file: the first test returns then.
        if (File.Exists(Path.Combine(contentRoot, "appsettings.json")) || !File.Exists(shipped))
        {
            return null;
        }

        return $"note: settings files are read from the folder the worker starts in ({contentRoot}), which has no appsettings.json, so {shipped} (the demo's models and routes) was not read; start the worker from its folder, or give contentRoot=<folder> or every setting another way.";
    }

    /// <summary>One line for the exception the host builder threw while reading its configuration.</summary>
    public static string Describe(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (error is DirectoryNotFoundException)
        {
            // The content root (--contentRoot, ASPNETCORE_CONTENTROOT) names a folder that is not there.
            return $"contentRoot: '{error.Message.TrimEnd('/')}' is not a folder (the folder that holds appsettings.json).";
        }

        var file = error is InvalidDataException && QuotedPath().Match(error.Message) is { Success: true } m ? m.Groups["path"].Value : null;
        var cause = error.InnerException ?? error;
        var json = cause as JsonException ?? cause.InnerException as JsonException;
        string problem;
        if (json is not null)
        {
            problem = $"not valid JSON{JsonMessages.Location(json)}: {JsonMessages.Problem(json)}";
        }
        else if (DuplicateKey().Match(cause.Message) is { Success: true } duplicate)
        {
            problem = $"{duplicate.Groups["key"].Value} is given twice (keys are case-insensitive); keep one.";
        }
        else if (cause.Message.StartsWith("Top-level JSON element must be an object", StringComparison.Ordinal))
        {
            problem = "must hold one JSON object of settings ({ \"StreamSeq\": { ... } }).";
        }
        else
        {
            problem = cause.Message;
        }

        return file is null ? $"cannot read the settings: {problem}" : $"{file}: {problem}";
    }

    /// <summary>
    /// The settings files the host read that are not UTF-8, one problem each naming the file and the first byte that is
    /// not: the JSON reader turns such a byte into U+FFFD without a word, so a Latin-1 'é' in a group id made the worker
    /// join a group nobody named.
    /// </summary>
    public static IReadOnlyList<string> FindEncodingProblems(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var problems = new List<string>();
        if (configuration is not IConfigurationRoot root)
        {
            return problems;
        }

        foreach (var provider in root.Providers.OfType<Microsoft.Extensions.Configuration.Json.JsonConfigurationProvider>())
        {
            var path = provider.Source.FileProvider?.GetFileInfo(provider.Source.Path ?? string.Empty).PhysicalPath;
            if (path is null || !File.Exists(path))
            {
                continue;
            }

            if (Utf8Text.Problem(File.ReadAllBytes(path)) is { } problem)
            {
                problems.Add($"{path}: not UTF-8 text: {problem} (save the file as UTF-8).");
            }
        }

        return problems;
    }

    [GeneratedRegex("'(?<path>[^']+)'")]
    private static partial Regex QuotedPath();

    [GeneratedRegex("duplicate key '(?<key>[^']+)'")]
    private static partial Regex DuplicateKey();
}
