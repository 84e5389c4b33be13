using System.ComponentModel.DataAnnotations;
using StreamSeq.Kafka;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.State;
using StreamSeq.Worker.Alerts;

namespace StreamSeq.Worker.Configuration;

/// <summary>
/// Everything the worker reads from configuration, checked before anything starts: a setting the worker does not
/// know, a value of the wrong type or out of range, a librdkafka property librdkafka rejects, a missing broker, an
/// address the web server cannot listen on, or a bad model spec stops the start with one line per problem, each
/// naming the setting the user wrote.
/// </summary>
/// <remarks>
/// The checks run in stages and the first stage with problems stops the start (a misspelt key explains what follows
/// from it): settings that two environment variables give different values (<see cref="SettingSources"/>), unknown keys
/// under <c>StreamSeq</c> (unless <c>StreamSeq:UnknownSettings=warn</c>, which logs them instead), values that do not
/// convert, ranges and cross-field rules, settings another setting cancels (<see cref="InapplicableSettings"/>),
/// librdkafka properties (librdkafka's own check, then <see cref="ReservedClientSettings"/>), the broker choice
/// (<see cref="BrokerSelection"/>), listen addresses (<see cref="ListenAddresses"/>), then models and routes. Every
/// problem names the environment variable or settings file its value came from. The disk store's folder is the host's
/// to check (<see cref="ProcessingSettings.StoreDirectoryProblems"/>): these checks touch no file system.
/// </remarks>
public sealed class WorkerSettings
{
    /// <summary>The key that decides what an unknown key does.</summary>
    public const string UnknownSettingsKey = SettingsCatalog.Root + ":UnknownSettings";

    private WorkerSettings(KafkaTransportOptions kafka, ProcessingSettings processing, EmbeddedSettings embedded, DashboardSettings dashboard, ApiSettings api, ModelRouter router, ParameterTable? startingParameters, bool usesEmbeddedBroker, IReadOnlyList<string> ignored, TelemetryExporters telemetry)
    {
        StartingParameters = startingParameters;
        Telemetry = telemetry;
        Kafka = kafka;
        Processing = processing;
        Embedded = embedded;
        Dashboard = dashboard;
        Api = api;
        Router = router;
        UsesEmbeddedBroker = usesEmbeddedBroker;
        IgnoredSettings = ignored;
    }

    /// <summary>Kafka transport settings.</summary>
    public KafkaTransportOptions Kafka { get; }

    /// <summary>Processor settings.</summary>
    public ProcessingSettings Processing { get; }

    /// <summary>Embedded-mode settings.</summary>
    public EmbeddedSettings Embedded { get; }

    /// <summary>Dashboard settings.</summary>
    public DashboardSettings Dashboard { get; }

    /// <summary>JSON API settings.</summary>
    public ApiSettings Api { get; }

    /// <summary>Models and routes.</summary>
    public ModelRouter Router { get; }

    /// <summary>The learned values new streams start from (<c>StreamSeq:Processing:ParametersFile</c>; null when unset).</summary>
    public ParameterTable? StartingParameters { get; }

    /// <summary>True when the embedded broker (and, unless turned off, the simulator) runs in this process.</summary>
    public bool UsesEmbeddedBroker { get; }

    /// <summary>Whether the dashboard is served.</summary>
    public bool DashboardEnabled => Dashboard.IsEnabled(UsesEmbeddedBroker);

    /// <summary>Where metrics and traces are exported (OpenTelemetry's environment variables).</summary>
    public TelemetryExporters Telemetry { get; }

    /// <summary>
    /// Settings the worker ignores, to be logged as warnings: unknown keys let through by
    /// <c>StreamSeq:UnknownSettings=warn</c>, and embedded-mode settings given for a worker that uses a cluster.
    /// </summary>
    public IReadOnlyList<string> IgnoredSettings { get; }

    /// <summary>Reads and checks the settings.</summary>
    /// <exception cref="InvalidSettingsException">The settings cannot start a worker.</exception>
    public static WorkerSettings Load(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        try
        {
            return LoadChecked(configuration);
        }
        catch (InvalidSettingsException e)
        {
            // Name the environment variable or file each problem's value came from, as the user wrote it.
            throw new InvalidSettingsException([.. e.Problems.Select(p => SettingSources.Annotate(configuration, p))]);
        }
    }

    private static WorkerSettings LoadChecked(IConfiguration configuration)
    {
        DurationConverter.Install();
        StopOn(SettingSources.FindEnvironmentConflicts(configuration));
        var unknownMode = (configuration[UnknownSettingsKey] ?? "fail").Trim().ToLowerInvariant();
        if (unknownMode is not ("fail" or "warn"))
        {
            throw new InvalidSettingsException($"{UnknownSettingsKey}: must be fail or warn, got '{configuration[UnknownSettingsKey]}'.");
        }

        var unknown = SettingsCatalog.FindUnknown(configuration);
        StopOn(unknownMode == "fail" ? unknown : []);
        StopOn([.. ConversionProblems(configuration), .. LogLevelProblems(configuration)]);

        var kafka = Bind<KafkaTransportOptions>(configuration, KafkaTransportOptions.Section);
        var processing = Bind<ProcessingSettings>(configuration, ProcessingSettings.Section);
        var embedded = Bind<EmbeddedSettings>(configuration, EmbeddedSettings.Section);
        var dashboard = Bind<DashboardSettings>(configuration, DashboardSettings.Section);
        var api = Bind<ApiSettings>(configuration, ApiSettings.Section);
        var problems = new List<string>();
        problems.AddRange(SettingValues.AnnotationProblems(kafka, KafkaTransportOptions.Section));
        problems.AddRange(SettingValues.AnnotationProblems(processing, ProcessingSettings.Section));
        problems.AddRange(SettingValues.AnnotationProblems(embedded, EmbeddedSettings.Section));
        problems.AddRange(SettingValues.AnnotationProblems(dashboard, DashboardSettings.Section));
        problems.AddRange(SettingValues.AnnotationProblems(api, ApiSettings.Section));
        var alerts = Bind<AlertSettings>(configuration, AlertSettings.Section);
        problems.AddRange(alerts.Validate(new ValidationContext(alerts)).Select(r => r.ErrorMessage ?? AlertSettings.Section));
        var telemetry = TelemetryExporters.Read(configuration, problems);
        foreach (var model in configuration.GetSection(ModelConfiguration.ModelSettingsSection).GetChildren())
        {
            problems.AddRange(SettingValues.AnnotationProblems(model.Get<ModelSettings>() ?? new ModelSettings(), model.Path));
        }

        StopOn(problems);
        StopOn(processing.CrossFieldProblems());
        StopOn(InapplicableSettings.Find(configuration, processing, kafka, alerts));
        if (new KnownSettingsValidator().Validate(null, kafka) is { Failed: true } crossField)
        {
            StopOn(crossField.Failures);
        }

        // The pass-through librdkafka properties: each check names the property and its problem.
        static IEnumerable<string> ClientProblems(IEnumerable<KeyValuePair<string, string>> found) =>
            found.Select(p => $"{KafkaTransportOptions.Section}:Client:{p.Key}: {p.Value}");
        StopOn(ClientProblems(KafkaClientSettings.FindInvalid(kafka.Client)));
        StopOn(ClientProblems(ReservedClientSettings.Find(kafka.Client, kafka)));
        StopOn(ClientProblems(ClientFileSettings.FindMissing(kafka.Client)));
        var usesEmbedded = BrokerSelection.UsesEmbeddedBroker(configuration, kafka, embedded, out var brokerProblem);
        StopOn(brokerProblem is null ? [] : [brokerProblem]);
        StopOn(ListenAddresses.FindProblems(configuration));

        ModelRouter router;
        ParameterTable? startingParameters;
        try
        {
            router = ModelConfiguration.Build(configuration, processing);
            startingParameters = Configuration.StartingParameters.Load(processing, router);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidSettingsException(e.Message, e);
        }

        IReadOnlyList<string> ignored = [.. unknownMode == "warn" ? unknown : [], .. BrokerSelection.IgnoredWithCluster(configuration, usesEmbedded)];
        return new WorkerSettings(kafka, processing, embedded, dashboard, api, router, startingParameters, usesEmbedded, ignored, telemetry);
    }

    private static void StopOn(IEnumerable<string> problems)
    {
        var list = problems.ToList();
        if (list.Count > 0)
        {
            throw new InvalidSettingsException(list);
        }
    }

    /// <summary>Values under <c>StreamSeq</c> that the binder could not convert to their setting's type.</summary>
    private static IEnumerable<string> ConversionProblems(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection(SettingsCatalog.Root).AsEnumerable())
        {
            if (value is not null && SettingsCatalog.ValueType(key) is { } type && SettingValues.ConversionProblem(type, value) is { } problem)
            {
                yield return $"{key}: {problem}";
            }
        }
    }

    /// <summary>
    /// Log levels under <c>Logging</c> that the host's logger cannot read: it throws on the first logger it creates
    /// (<c>Logging__LogLevel__Default=Verbose</c> ended the start in an unhandled exception, exit 134).
    /// </summary>
    private static IEnumerable<string> LogLevelProblems(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection("Logging").AsEnumerable())
        {
            var segments = key.Split(':');
            if (segments.Length >= 2 && string.Equals(segments[^2], "LogLevel", StringComparison.OrdinalIgnoreCase)
                && !string.IsNullOrEmpty(value) && !Enum.TryParse<LogLevel>(value, ignoreCase: true, out _))
            {
                yield return $"{key}: '{value}' is not a log level ({string.Join(", ", Enum.GetNames<LogLevel>())}).";
            }
        }
    }

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : class, new()
    {
        try
        {
            return configuration.GetSection(section).Get<T>() ?? new T();
        }
        catch (InvalidOperationException e)
        {
            // The conversion check above catches what users write; this is the binder's own word for anything else.
            throw new InvalidSettingsException(e.Message, e);
        }
    }
}
