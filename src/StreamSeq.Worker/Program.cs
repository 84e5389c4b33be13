using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Processor;
using StreamSeq.Processing.Records;
using StreamSeq.Worker.Alerts;
using StreamSeq.Worker.Configuration;
using StreamSeq.Worker.Dashboard;
using StreamSeq.Worker.Hosting;
using StreamSeq.Worker.Plugins;

if (args is [HealthProbe.Verb, ..])
{
    return await HealthProbe.RunAsync(args.Length > 1 ? args[1] : null, Console.Error).ConfigureAwait(false);
}

// Kinds from plug-ins (the ONNX Runtime backend) join the catalog before the model specs are read.
try
{
    ModelKindPlugins.Load(Environment.GetEnvironmentVariable(ModelKindPlugins.PathVariable), AppContext.BaseDirectory);
}
catch (InvalidOperationException e)
{
    return await CannotStart([e.Message]).ConfigureAwait(false);
}

if (CommandLineArguments.AsksForHelp(args))
{
    await Console.Out.WriteLineAsync(CommandLineArguments.Usage).ConfigureAwait(false);
    return 0;
}

// Arguments the host would skip (a stray word, a key without its value) or override (a key given twice) stop the start.
if (CommandLineArguments.FindProblems(args) is { Count: > 0 } argumentProblems)
{
    return await CannotStart(argumentProblems).ConfigureAwait(false);
}

// A settings file that is not JSON (or repeats a key) fails inside the host builder: one line naming the file.
WebApplicationBuilder builder;
try
{
    builder = WebApplication.CreateBuilder(args);
}
catch (Exception e) when (e is InvalidDataException or FormatException or DirectoryNotFoundException)
{
    return await CannotStart([ConfigurationFiles.Describe(e)]).ConfigureAwait(false);
}

if (ConfigurationFiles.FindEncodingProblems(builder.Configuration) is { Count: > 0 } encodingProblems)
{
    return await CannotStart(encodingProblems).ConfigureAwait(false);
}

var services = builder.Services;

// Nothing says where to listen (Urls, ASPNETCORE_HTTP_PORTS, Kestrel:Endpoints): the loopback interface, port 8080.
if (!ListenAddresses.AnyConfigured(builder.Configuration))
{
    builder.WebHost.UseUrls(ListenAddresses.DefaultUrl);
}

// Every setting is checked before anything starts; a problem stops the start with one line naming the setting.
WorkerSettings settings;
try
{
    settings = WorkerSettings.Load(builder.Configuration);
}
catch (InvalidSettingsException e)
{
    var note = ConfigurationFiles.ShippedFileNotRead(builder.Environment.ContentRootPath, AppContext.BaseDirectory);
    return await CannotStart(note is null ? e.Problems : [.. e.Problems, note]).ConfigureAwait(false);
}

// The disk store's folder must exist and take writes before the loop is assigned partitions to store there.
if (settings.Processing.StoreDirectoryProblems().ToList() is { Count: > 0 } storeProblems)
{
    return await CannotStart(storeProblems.Select(problem => SettingSources.Annotate(builder.Configuration, problem))).ConfigureAwait(false);
}

// Log messages carry stream ids and reasons from Kafka records: the console shows their control characters escaped.
TerminalSafeConsoleFormatter.Register(builder.Logging);
var startupLog = new StartupLogFilter();
builder.Logging.AddFilter(StartupLogFilter.HostCategory, startupLog.Allows);
services.AddSingleton(settings);
services.AddSingleton(Options.Create(settings.Kafka));
services.AddSingleton(Options.Create(settings.Processing));
services.AddSingleton(Options.Create(settings.Embedded));
services.AddSingleton(Options.Create(settings.Dashboard));
services.AddSingleton(Options.Create(settings.Api));
services.AddSingleton(settings.Router);
services.AddSingleton(new ProcessorOptions
{
    AllowedLateness = settings.Processing.AllowedLateness,
    MaxTimeSkew = settings.Processing.MaxTimeSkew > TimeSpan.Zero ? settings.Processing.MaxTimeSkew : null,
    MaxComponents = settings.Processing.MaxComponents,
    MaxRecordBytes = settings.Processing.MaxRecordBytes,
    MaxLiveStreams = settings.Processing.MaxLiveStreams,
    StartingParameters = settings.StartingParameters,
});
services.AddSingleton(TimeProvider.System);
services.AddWorkerTelemetry(builder.Configuration, settings.Kafka.EffectiveInstanceId, settings.Telemetry);
services.AddSingleton<OutputTap>();
services.AddSingleton<InputTap>();
services.AddSingleton<OwnershipTap>();
services.AddSingleton<BrokerEndpoint>();
services.AddSingleton<BrokerConnection>();

// Alert sinks (StreamSeq:Alerts) start before the loop and stop after it, so the last transaction's alerts go out too.
services.AddAlertSinks(builder.Configuration);
services.AddSingleton<StreamWorkerService>();
services.AddSingleton<WorkerReadiness>();
services.AddHostedService(sp => sp.GetRequiredService<StreamWorkerService>());
services.AddHostedService<SummaryService>();
services.AddHostedService<ReadinessAnnouncer>();

// The dashboard: on by default with the embedded broker (a laptop), off against a configured cluster.
if (settings.DashboardEnabled)
{
    services.AddSingleton<DashboardMetrics>();
    services.AddSingleton<DashboardFeed>();
    services.AddHostedService(sp => sp.GetRequiredService<DashboardFeed>());
}

if (settings.UsesEmbeddedBroker && settings.Embedded.Simulator)
{
    // Also a service of its own: /api/status shows its delivery counts.
    services.AddSingleton<SimulatorService>();
    services.AddHostedService(sp => sp.GetRequiredService<SimulatorService>());
}

services.Configure<HostOptions>(o => o.ShutdownTimeout = WorkerShutdown.Timeout);
services.AddHealthChecks()
    .AddCheck<LivenessCheck>("processing-loop", tags: ["live"]);

var app = builder.Build();
if (settings.DashboardEnabled)
{
    app.MapDashboard();
}

SettingsCatalog.WarnAboutUnknown(settings.IgnoredSettings, app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SettingsCatalog).FullName!));
if (settings.Telemetry.Prometheus)
{
    app.MapPrometheusScrapingEndpoint(WorkerEndpoints.Metrics).WithMetadata(new HttpMethodMetadata(WorkerApi.ReadMethods));
}

// Probes and scrapes read: POST, PUT or DELETE on them is 405 like on the API (health checks answer any method by default).
// Readiness is answered directly (WorkerApi.AnswerReadyAsync): the health-check service logs each unready probe as an error.
app.MapHealthChecks(WorkerEndpoints.Live, new HealthCheckOptions { Predicate = c => c.Tags.Contains("live") }).WithMetadata(new HttpMethodMetadata(WorkerApi.ReadMethods));
app.MapMethods(WorkerEndpoints.Ready, WorkerApi.ReadMethods, WorkerApi.AnswerReadyAsync);
app.MapWorkerApi();

// A second Ctrl+C or SIGTERM while the graceful stop is under way ends the process at once (exit code 130 or 143).
using var secondStopSignal = SecondStopSignal.Listen(Console.Error);
try
{
    await app.StartAsync().ConfigureAwait(false);
}
catch (Exception e) when (e is not OperationCanceledException)
{
    // A start that fails here (the address is taken, the server cannot be configured) is reported like a setting.
    await Console.Error.WriteLineAsync($"streamseq worker: {TerminalSafeText.Escape(WorkerApi.DescribeStartFailure(e))}").ConfigureAwait(false);
    await app.DisposeAsync().ConfigureAwait(false);
    return WorkerExitCodes.CannotStart;
}

startupLog.Started();
await app.WaitForShutdownAsync().ConfigureAwait(false);
await app.DisposeAsync().ConfigureAwait(false);
return Environment.ExitCode;

// Why the worker cannot start, one line per problem on standard error, and the exit code that says it did not.
static async Task<int> CannotStart(IEnumerable<string> problems)
{
    foreach (var problem in problems)
    {
        await Console.Error.WriteLineAsync($"streamseq worker: {TerminalSafeText.Escape(problem)}").ConfigureAwait(false);
    }

    return WorkerExitCodes.CannotStart;
}
