using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using StreamSeq.Worker.Hosting;

namespace StreamSeq.Worker.Tests.Hosting;

public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(null, "http://127.0.0.1:8080/health/live")]
    [InlineData("", "http://127.0.0.1:8080/health/live")]
    [InlineData("9090", "http://127.0.0.1:9090/health/live")]
    [InlineData("8081;8082", "http://127.0.0.1:8081/health/live")]
    [InlineData("not-a-port", "http://127.0.0.1:8080/health/live")]
    public void DefaultUrl_HttpPortsSetting_LivenessOnTheFirstPort(string? ports, string expected) =>
        Assert.Equal(expected, HealthProbe.DefaultUrl(ports));

    [Fact]
    public async Task RunAsync_HealthyAndUnhealthyEndpointsAndNoServer_ExitCodesAndOneLineReasons()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        await using var app = builder.Build();
        app.MapGet("/ok", () => "Healthy");
        app.MapGet("/bad", () => Results.StatusCode(503));
        await app.StartAsync();
        var root = app.Urls.First();

        var errors = new StringWriter();
        Assert.Equal(0, await HealthProbe.RunAsync($"{root}/ok", errors));
        Assert.Equal(1, await HealthProbe.RunAsync($"{root}/bad", errors));
        Assert.Equal(1, await HealthProbe.RunAsync($"http://127.0.0.1:{ClosedPort()}/health/live", errors));
        await app.StopAsync();

        var lines = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("answered 503", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("probe: http://127.0.0.1:", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:{port}/\u001b]0;owned\u0007\r\nerror: forged")]
    [InlineData("\u001b[2Jnot a url\u202e")]
    public async Task RunAsync_UrlWithControlCharacters_OneEscapedLine(string url)
    {
        var errors = new StringWriter();

        Assert.Equal(1, await HealthProbe.RunAsync(url.Replace("{port}", ClosedPort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal), errors));

        var text = errors.ToString();
        Assert.Single(text.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\r', text);
        Assert.DoesNotContain('\u202e', text);
        Assert.StartsWith("probe: ", text, StringComparison.Ordinal);
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
