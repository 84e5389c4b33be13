namespace StreamSeq.Worker.Hosting;

/// <summary>The worker's HTTP endpoints (deployment files and probes refer to these paths).</summary>
public static class WorkerEndpoints
{
    /// <summary>The port containers listen on (<c>ASPNETCORE_HTTP_PORTS=8080</c> in deploy/Dockerfile).</summary>
    public const int ContainerPort = Configuration.ListenAddresses.DefaultPort;

    /// <summary>Prometheus scrape endpoint.</summary>
    public const string Metrics = "/metrics";

    /// <summary>Liveness: healthy unless the processing loop stopped on a fatal error.</summary>
    public const string Live = "/health/live";

    /// <summary>Readiness: group joined, every owned partition restored, broker reachable.</summary>
    public const string Ready = "/health/ready";

    /// <summary>Loop status (JSON).</summary>
    public const string Status = "/api/status";

    /// <summary>
    /// One stream's current state (JSON); the id is the rest of the path, percent-encoded (<c>%2F</c> for <c>/</c>).
    /// </summary>
    public const string Stream = "/api/streams/{**id}";

    /// <summary>The path before a stream id in <see cref="Stream"/>.</summary>
    public const string StreamPrefix = "/api/streams/";

    /// <summary>The configured models (JSON).</summary>
    public const string Models = "/api/models";
}
