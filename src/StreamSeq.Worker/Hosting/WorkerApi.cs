using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using StreamSeq.Kafka.Transport;
using StreamSeq.Processing.Models;
using StreamSeq.Processing.Records;
using StreamSeq.Processing.Telemetry;
using StreamSeq.Worker.Configuration;

namespace StreamSeq.Worker.Hosting;

/// <summary>The worker's JSON API (<see cref="WorkerEndpoints"/>) and the wording of health answers and start failures.</summary>
public static class WorkerApi
{
    /// <summary>
    /// JSON for API answers. Non-finite numbers (a diffuse prior's infinite variance) are written as the strings
    /// <c>"Infinity"</c>, <c>"-Infinity"</c> and <c>"NaN"</c>, and text as itself (a stream id such as
    /// <c>capteur-température</c> is not <c>\u00E9</c>-escaped), as in output records.
    /// </summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        Encoder = OutputRecordWriter.JsonOptions.Encoder,
    };

    /// <summary>
    /// The methods every read-only endpoint answers: GET, and HEAD (the same headers without a body, as HTTP requires
    /// of GET resources; monitors use it). Anything else is 405 with an <c>Allow</c> header.
    /// </summary>
    public static IReadOnlyList<string> ReadMethods { get; } = [HttpMethods.Get, HttpMethods.Head];

    /// <summary>How long a client that got a 503 is asked to wait before it asks again (<c>Retry-After</c>, seconds).</summary>
    internal const int RetryAfterSeconds = 5;

    /// <summary>A 400 answer whose JSON body names the parameter and what is wrong with it (<c>{"error": ...}</c>).</summary>
    internal static IResult BadRequest(string problem) => Results.Json(new { error = problem }, Json, statusCode: StatusCodes.Status400BadRequest);

    /// <summary>
    /// A 503 answer: <c>Retry-After</c> and a JSON body saying why the worker cannot answer now (<c>{"error": ...}</c>).
    /// </summary>
    internal static IResult Unavailable(HttpContext context, string problem)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return Results.Json(new { error = problem }, Json, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Maps <c>/api/status</c>, <c>/api/streams/{id}</c> and <c>/api/models</c>.</summary>
    public static void MapWorkerApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapMethods(WorkerEndpoints.Status, ReadMethods, async (StreamWorkerService service, WorkerReadiness readiness, IServiceProvider services, CancellationToken cancellation) =>
        {
            var (ready, reason) = await readiness.CheckAsync(cancellation).ConfigureAwait(false);
            var s = service.Worker.Status;
            var simulator = services.GetService<SimulatorService>();
            return Results.Json(
                new
                {
                    ready,
                    readiness = reason,
                    partitions = s.Partitions,
                    awaitingChangelog = s.AwaitingChangelog,
                    processed = s.Processed,
                    liveStreams = s.LiveStreams,
                    evictedStreams = s.EvictedStreams,
                    standby = s.Standby,
                    commits = s.Commits,
                    aborts = s.Aborts,
                    lag = s.Lag,
                    awaitingChangelogLag = s.AwaitingChangelogLag,
                    alerts = s.Alerts,
                    deadLetters = s.DeadLetters,
                    duplicates = s.Duplicates,
                    lastCommit = s.LastCommit == default ? (DateTimeOffset?)null : s.LastCommit,
                    pendingQueries = service.Worker.PendingQueries,
                    maxPendingQueries = service.Worker.MaxPendingQueries,
                    simulator = simulator is null ? null : new
                    {
                        produced = simulator.Produced,
                        delivered = simulator.Delivered,
                        failed = simulator.Failed,
                        lastFailure = simulator.LastFailure,
                    },
                    version = ProductVersion.Current.Version,
                    commit = ProductVersion.Current.Commit,
                },
                Json);
        });
        app.MapMethods(WorkerEndpoints.Stream, ReadMethods, QueryStream);
        app.MapMethods(WorkerEndpoints.Models, ReadMethods, (ModelRouter models) => Results.Json(models.Models.Values.Select(m => new { name = m.Name, kind = m.Spec.Kind, family = m.Estimator.Info.Family, lag = m.Lag, horizon = m.Horizon }), Json));
    }

    /// <summary>
    /// <see cref="WorkerEndpoints.Stream"/>: the processing loop's answer, waited for at most
    /// <see cref="ApiSettings.QueryTimeout"/>, and no longer than the client waits or the worker runs. A loop that cannot
    /// answer (not started, stopped, held up past the bound, or with <see cref="ApiSettings.MaxPendingQueries"/> queries
    /// already waiting) is a 503 that says why.
    /// </summary>
    private static async Task<IResult> QueryStream(HttpContext context, StreamWorkerService service, WorkerReadiness readiness, IOptions<ApiSettings> api, IHostApplicationLifetime lifetime)
    {
        if (StreamId(context, out var problem) is not { } id)
        {
            return BadRequest(problem!);
        }

        var settings = api.Value;
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        StreamQueryResult answer;
        try
        {
            answer = await service.Worker.QueryAsync(id, settings.QueryTimeout, ending.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ending.IsCancellationRequested)
        {
            // The worker is stopping (answered now rather than when the loop has stopped), or the client went away
            // (nobody reads an answer).
            return lifetime.ApplicationStopping.IsCancellationRequested
                ? Unavailable(context, "the worker is shutting down; retry later (another worker takes its partitions over).")
                : Results.Empty;
        }

        return answer.Outcome switch
        {
            StreamQueryOutcome.Answered when answer.Snapshot is { } snapshot => Results.Json(snapshot, Json),
            StreamQueryOutcome.Answered => Results.Json(new { error = $"stream '{id}' is not owned by this worker" }, Json, statusCode: StatusCodes.Status404NotFound),
            StreamQueryOutcome.Unreadable => Results.Json(new { error = answer.Problem }, Json, statusCode: StatusCodes.Status500InternalServerError),
            StreamQueryOutcome.Superseded => Results.Json(new { error = Superseded(id, answer.Problem) }, Json, statusCode: StatusCodes.Status409Conflict),
            StreamQueryOutcome.NotStarted => Unavailable(context, $"the processing loop has not started yet ({readiness.Current().Reason}); retry later."),
            StreamQueryOutcome.Stopped => Unavailable(context, "the processing loop has stopped (the worker is shutting down, or stopped on an error); retry later."),
            StreamQueryOutcome.Full => Unavailable(context, $"{service.Worker.MaxPendingQueries} queries already wait for the processing loop, which has not answered them: {HeldUp(readiness)}; retry later."),
            _ => Unavailable(context, $"the processing loop has not answered within {settings.QueryTimeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)} s: {HeldUp(readiness)}; retry later."),
        };
    }

    /// <summary>The 409 of a stream owned here whose stored state its configured model does not read.</summary>
    internal static string Superseded(string id, string? reason) =>
        $"stream '{id}' is owned by this worker, but its stored state was written by an earlier model ({reason}); it has no state of the current model yet, and its next record replaces the stored state with one started from the model's prior.";

    /// <summary>Why the loop may not answer: what readiness says when not ready, else what holds a running loop up.</summary>
    private static string HeldUp(WorkerReadiness readiness) => readiness.Current() is (false, var reason)
        ? reason
        : "it answers between records and is held up, by a commit or a rebalance waiting for the broker";

    /// <summary>
    /// The stream id of a <see cref="WorkerEndpoints.Stream"/> request: the rest of the path as the client sent it,
    /// percent-decoded once. Routing keeps <c>%2F</c> encoded (it cannot tell it from a path separator), so the id
    /// is taken from the request target itself (after the prefix in any case, as routing matches it); an unencoded
    /// <c>/</c> in the rest of the path is part of the id too.
    /// Decoding is strict (<see cref="StreamIdText"/>): null, with the reason in <paramref name="problem"/>, for a
    /// malformed escape, bytes that are not UTF-8, or an id no stream can have (empty, NUL-led, over 1 KiB).
    /// </summary>
    public static string? StreamId(HttpContext context, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(context);
        const string Name = "stream id (the path after /api/streams/)";
        var target = context.Features.Get<IHttpRequestFeature>()?.RawTarget;
        // Routing matches paths whatever their case (/API/Streams/...): so does the search for the id's start.
        var at = target?.IndexOf(WorkerEndpoints.StreamPrefix, StringComparison.OrdinalIgnoreCase) ?? -1;
        if (target is null || at < 0)
        {
            var routed = context.Request.RouteValues["id"] as string ?? string.Empty;
            return StreamIdText.Decode(Uri.EscapeDataString(routed), Name, plusIsSpace: false, out problem);
        }

        var rest = target[(at + WorkerEndpoints.StreamPrefix.Length)..];
        var query = rest.IndexOfAny(['?', '#']);
        return StreamIdText.Decode(query < 0 ? rest : rest[..query], Name, plusIsSpace: false, out problem);
    }

    /// <summary>
    /// <c>/health/ready</c>: 200 <c>Healthy: reason</c> when ready, else 503 <c>Unhealthy: reason</c>, not cached. Not a
    /// health check of the host's health-check service, which logs every unhealthy result as an error: not being ready
    /// (the broker unreachable, partitions restoring) is an expected state that Kubernetes probes every few seconds, and
    /// the worker says once per change or retry why it is in it.
    /// </summary>
    public static async Task AnswerReadyAsync(HttpContext context, WorkerReadiness readiness)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(readiness);
        var (ready, reason) = await readiness.CheckAsync(context.RequestAborted).ConfigureAwait(false);
        var status = ready ? HealthStatus.Healthy : HealthStatus.Unhealthy;
        context.Response.StatusCode = ready ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        var headers = context.Response.Headers;
        headers.CacheControl = "no-store, no-cache";
        headers.Pragma = "no-cache";
        headers.Expires = "Thu, 01 Jan 1970 00:00:00 GMT";
        var entries = new Dictionary<string, HealthReportEntry> { ["restored"] = new(status, reason, TimeSpan.Zero, null, null) };
        await WriteHealthAsync(context, new HealthReport(entries, TimeSpan.Zero)).ConfigureAwait(false);
    }

    /// <summary>Health answers as <c>Healthy: reason</c> in plain text, so a failing probe says why.</summary>
    public static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(report);
        var reasons = string.Join("; ", report.Entries.Values.Select(e => e.Description).Where(d => !string.IsNullOrEmpty(d)));
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(reasons.Length == 0 ? report.Status.ToString() : $"{report.Status}: {reasons}", Encoding.UTF8);
    }

    /// <summary>One line for an exception that stopped the host's start.</summary>
    public static string DescribeStartFailure(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var message = string.Join(' ', error.Message.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        return error switch
        {
            // Kestrel: "Failed to bind to address http://127.0.0.1:8080: address already in use."
            IOException when message.Contains("bind", StringComparison.OrdinalIgnoreCase) => $"Urls: {message}",
            WorkerStartException => message,

            // An https address without a certificate: Kestrel's message runs over two lines and names no setting.
            InvalidOperationException when message.Contains("HTTPS endpoint", StringComparison.Ordinal)
                => $"Urls: an https address needs a certificate (Kestrel:Certificates:Default:Path and :Password, or a Kestrel endpoint's Certificate): {message}",
            _ => $"cannot start: {message}",
        };
    }
}
