using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using StreamSeq.Estimation.Onnx;
using StreamSeq.Estimation.Specs;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Processor;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Dashboard;
using StreamSeq.Worker.Hosting;

// Kinds from optional assemblies join the catalog before the model specs are read.
ModelCatalog.Register(new OnnxRecurrentKind());
if (args is [HealthProbe.Verb, ..])
{
    return await HealthProbe.RunAsync(args.Length > 1 ? args[1] : null, Console.Error).ConfigureAwait(false);
}

var builder = WebApplication.CreateBuilder(args);
var services = builder.Services;
var configuration = builder.Configuration;

services.AddOptions<KafkaTransportOptions>().Bind(configuration.GetSection(KafkaTransportOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
services.AddOptions<ProcessingSettings>().Bind(configuration.GetSection(ProcessingSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
services.AddOptions<EmbeddedSettings>().Bind(configuration.GetSection(EmbeddedSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
services.AddOptions<DashboardSettings>().Bind(configuration.GetSection(DashboardSettings.Section)).ValidateDataAnnotations().ValidateOnStart();
services.AddSingleton<IValidateOptions<KafkaTransportOptions>, KnownSettingsValidator>();

// Models are validated while the host starts: a bad spec stops the worker with the setting's name.
var processing = configuration.GetSection(ProcessingSettings.Section).Get<ProcessingSettings>() ?? new ProcessingSettings();
ModelRouter router;
StreamSeq.Processing.State.ParameterTable? startingParameters;
try
{
    router = ModelConfiguration.Build(configuration, processing);
    startingParameters = StartingParameters.Load(processing, router);
}
catch (InvalidOperationException e)
{
    await Console.Error.WriteLineAsync($"streamseq worker: invalid configuration: {e.Message}").ConfigureAwait(false);
    return 1;
}

services.AddSingleton(router);
services.AddSingleton(new ProcessorOptions
{
    AllowedLateness = processing.AllowedLateness,
    MaxTimeSkew = processing.MaxTimeSkew > TimeSpan.Zero ? processing.MaxTimeSkew : null,
    MaxComponents = processing.MaxComponents,
    MaxRecordBytes = processing.MaxRecordBytes,
    MaxLiveStreams = processing.MaxLiveStreams,
    StartingParameters = startingParameters,
});
services.AddSingleton(TimeProvider.System);
services.AddWorkerTelemetry(configuration);
services.AddSingleton<OutputTap>();
services.AddSingleton<InputTap>();
services.AddSingleton<BrokerEndpoint>();
services.AddSingleton<StreamWorkerService>();
services.AddHostedService(sp => sp.GetRequiredService<StreamWorkerService>());
services.AddHostedService<SummaryService>();
services.AddHostedService<ReadinessAnnouncer>();
var bootstrap = configuration[$"{KafkaTransportOptions.Section}:BootstrapServers"];
var embedded = configuration.GetSection(EmbeddedSettings.Section).Get<EmbeddedSettings>() ?? new EmbeddedSettings();

// The dashboard: on by default with the embedded broker (a laptop), off against a configured cluster.
var dashboard = (configuration.GetSection(DashboardSettings.Section).Get<DashboardSettings>() ?? new DashboardSettings()).IsEnabled(string.IsNullOrWhiteSpace(bootstrap));
if (dashboard)
{
    services.AddSingleton<DashboardMetrics>();
    services.AddSingleton<DashboardFeed>();
    services.AddHostedService(sp => sp.GetRequiredService<DashboardFeed>());
}
if (string.IsNullOrWhiteSpace(bootstrap) && embedded.Simulator)
{
    services.AddHostedService<SimulatorService>();
}

services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
services.AddHealthChecks()
    .AddCheck<LivenessCheck>("processing-loop", tags: ["live"])
    .AddCheck<ReadinessCheck>("restored", tags: ["ready"]);

var app = builder.Build();
if (dashboard)
{
    app.MapDashboard();
}

SettingsCatalog.WarnAboutUnknown(configuration, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SettingsCatalog).FullName!));
app.MapPrometheusScrapingEndpoint(WorkerEndpoints.Metrics);
app.MapHealthChecks(WorkerEndpoints.Live, new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { Predicate = c => c.Tags.Contains("live") });
app.MapHealthChecks(WorkerEndpoints.Ready, new Microsoft.AspNetCore.Diagnostics.HealthChecks.HealthCheckOptions { Predicate = c => c.Tags.Contains("ready") });
app.MapGet(WorkerEndpoints.Status, (StreamWorkerService service) =>
{
    var s = service.Worker.Status;
    return Results.Ok(new
    {
        ready = s.Ready,
        partitions = s.Partitions,
        processed = s.Processed,
        liveStreams = s.LiveStreams,
        commits = s.Commits,
        lag = s.Lag,
        alerts = s.Alerts,
        deadLetters = s.DeadLetters,
        duplicates = s.Duplicates,
        lastCommit = s.LastCommit,
    });
});
app.MapGet(WorkerEndpoints.Stream, async (string id, StreamWorkerService service) =>
    await service.Worker.QueryAsync(id).ConfigureAwait(false) is { } snapshot ? Results.Ok(snapshot) : Results.NotFound(new { error = $"stream '{id}' is not owned by this worker" }));
app.MapGet(WorkerEndpoints.Models, (ModelRouter models) => Results.Ok(models.Models.Values.Select(m => new { name = m.Name, kind = m.Spec.Kind, family = m.Estimator.Info.Family, lag = m.Lag, horizon = m.Horizon })));

await app.RunAsync().ConfigureAwait(false);
return Environment.ExitCode;
