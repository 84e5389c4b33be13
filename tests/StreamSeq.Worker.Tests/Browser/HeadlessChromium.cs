using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace StreamSeq.Worker.Tests.Browser;

/// <summary>
/// A headless Chromium driven through the Chrome DevTools Protocol over one WebSocket: no driver binary, no browser
/// download, nothing but the Debian <c>chromium</c> package. Navigates, evaluates JavaScript, takes screenshots, and
/// records the page's console errors and uncaught exceptions for failure messages.
/// </summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    private readonly Process process;
    private readonly string profile;
    private readonly ClientWebSocket socket = new();
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> pending = new();
    private readonly ConcurrentQueue<string> console = new();
    private readonly StringBuilder browserLog = new();
    private readonly CancellationTokenSource closing = new();
    private readonly SemaphoreSlim sendLock = new(1, 1);
    private Task? receiver;
    private int nextId;

    private HeadlessChromium(Process process, string profile)
    {
        this.process = process;
        this.profile = profile;
    }

    /// <summary>Messages the page wrote to its console at warning level or above, and uncaught exceptions.</summary>
    public IReadOnlyCollection<string> ConsoleMessages => console;

    /// <summary>The Chromium executable: $CHROMIUM, or chromium / chromium-browser / google-chrome on the PATH; null when absent.</summary>
    public static string? FindExecutable()
    {
        if (Environment.GetEnvironmentVariable("CHROMIUM") is { Length: > 0 } configured && File.Exists(configured))
        {
            return configured;
        }

        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var name in new[] { "chromium", "chromium-browser", "google-chrome" })
        {
            foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries).Append("/usr/bin"))
            {
                var candidate = Path.Combine(dir, name);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    /// <summary>Starts a browser with a fresh profile and attaches to its first page.</summary>
    public static async Task<HeadlessChromium> StartAsync(string executable, int width, int height, TimeSpan timeout)
    {
        var profile = Directory.CreateTempSubdirectory("streamseq-chromium-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio",
            $"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0",
            $"--window-size={width},{height}", "about:blank",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {executable}");
        var browser = new HeadlessChromium(process, profile);
        process.OutputDataReceived += (_, e) => browser.Log(e.Data);
        process.ErrorDataReceived += (_, e) => browser.Log(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await browser.AttachAsync(timeout).ConfigureAwait(false);

            // The window size includes the (invisible) browser frame; pin the page's viewport instead.
            await browser.SendAsync(
                "Emulation.setDeviceMetricsOverride",
                new JsonObject { ["width"] = width, ["height"] = height, ["deviceScaleFactor"] = 1, ["mobile"] = false },
                timeout).ConfigureAwait(false);
            return browser;
        }
        catch
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Opens <paramref name="url"/> and waits for the document to finish loading.</summary>
    public async Task NavigateAsync(string url, TimeSpan timeout)
    {
        await SendAsync("Page.navigate", new JsonObject { ["url"] = url }, timeout).ConfigureAwait(false);
        await WaitForAsync("document.readyState === 'complete' && location.href !== 'about:blank'", timeout, $"page {url} to load").ConfigureAwait(false);
    }

    /// <summary>Evaluates an expression in the page (promises awaited) and returns its JSON value.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, TimeSpan? timeout = null)
    {
        var result = await SendAsync(
            "Runtime.evaluate",
            new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true },
            timeout ?? TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (result.TryGetProperty("exceptionDetails", out var error))
        {
            throw new InvalidOperationException($"page script failed: {error.GetRawText()}");
        }

        var inner = result.GetProperty("result");
        return inner.TryGetProperty("value", out var value) ? value.Clone() : default;
    }

    /// <summary>Polls a boolean expression until it is true; the failure names <paramref name="what"/> and the page's console.</summary>
    public async Task WaitForAsync(string expression, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var value = await EvaluateAsync(expression).ConfigureAwait(false);
            if (value.ValueKind == JsonValueKind.True)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"waited {timeout.TotalSeconds:F0} s for {what}. Page console: [{string.Join(" | ", console)}]");
            }

            await Task.Delay(200).ConfigureAwait(false);
        }
    }

    /// <summary>A PNG of the viewport.</summary>
    public async Task<byte[]> ScreenshotAsync()
    {
        var result = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png" }, TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        return Convert.FromBase64String(result.GetProperty("data").GetString()!);
    }

    public async ValueTask DisposeAsync()
    {
        await closing.CancelAsync().ConfigureAwait(false);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                using var quick = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "done", quick.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or OperationCanceledException)
        {
        }

        if (receiver is not null)
        {
            await Task.WhenAny(receiver, Task.Delay(2000)).ConfigureAwait(false);
        }

        socket.Dispose();
        process.Dispose();
        closing.Dispose();
        sendLock.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (browserLog)
        {
            if (browserLog.Length < 20_000)
            {
                browserLog.AppendLine(line);
            }
        }
    }

    private async Task AttachAsync(TimeSpan timeout)
    {
        // Chromium writes the port it picked into DevToolsActivePort once the endpoint listens.
        var portFile = Path.Combine(profile, "DevToolsActivePort");
        var clock = Stopwatch.StartNew();
        int port = 0;
        while (port == 0)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"chromium exited with code {process.ExitCode}: {browserLog}");
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"chromium did not open its DevTools endpoint within {timeout.TotalSeconds:F0} s: {browserLog}");
            }

            if (File.Exists(portFile))
            {
                var lines = await File.ReadAllLinesAsync(portFile).ConfigureAwait(false);
                if (lines.Length >= 1 && int.TryParse(lines[0], out var p))
                {
                    port = p;
                    break;
                }
            }

            await Task.Delay(100).ConfigureAwait(false);
        }

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        string? pageSocket = null;
        while (pageSocket is null)
        {
            var targets = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list")).ConfigureAwait(false)).RootElement;
            pageSocket = targets.EnumerateArray()
                .Where(t => t.GetProperty("type").GetString() == "page")
                .Select(t => t.GetProperty("webSocketDebuggerUrl").GetString())
                .FirstOrDefault();
            if (pageSocket is null)
            {
                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException("chromium has no page target.");
                }

                await Task.Delay(100).ConfigureAwait(false);
            }
        }

        await socket.ConnectAsync(new Uri(pageSocket), closing.Token).ConfigureAwait(false);
        receiver = Task.Run(ReceiveAsync);
        await SendAsync("Page.enable", null, timeout).ConfigureAwait(false);
        await SendAsync("Runtime.enable", null, timeout).ConfigureAwait(false);
        await SendAsync("Log.enable", null, timeout).ConfigureAwait(false);
    }

    private async Task<JsonElement> SendAsync(string method, JsonObject? parameters, TimeSpan timeout)
    {
        var id = Interlocked.Increment(ref nextId);
        var reply = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        pending[id] = reply;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? [] };
        var bytes = Encoding.UTF8.GetBytes(message.ToJsonString());
        await sendLock.WaitAsync(closing.Token).ConfigureAwait(false);
        try
        {
            await socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, closing.Token).ConfigureAwait(false);
        }
        finally
        {
            sendLock.Release();
        }

        try
        {
            return await reply.Task.WaitAsync(timeout).ConfigureAwait(false);
        }
        finally
        {
            pending.TryRemove(id, out _);
        }
    }

    private async Task ReceiveAsync()
    {
        var buffer = new byte[1 << 16];
        using var message = new MemoryStream();
        try
        {
            while (!closing.IsCancellationRequested && socket.State == WebSocketState.Open)
            {
                var result = await socket.ReceiveAsync(buffer, closing.Token).ConfigureAwait(false);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage)
                {
                    continue;
                }

                var root = JsonDocument.Parse(message.ToArray()).RootElement;
                message.SetLength(0);
                if (root.TryGetProperty("id", out var idElement) && pending.TryGetValue(idElement.GetInt32(), out var reply))
                {
                    if (root.TryGetProperty("error", out var error))
                    {
                        reply.TrySetException(new InvalidOperationException($"DevTools error: {error.GetRawText()}"));
                    }
                    else
                    {
                        reply.TrySetResult(root.GetProperty("result").Clone());
                    }
                }
                else if (root.TryGetProperty("method", out var method))
                {
                    Record(method.GetString(), root);
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
        }

        foreach (var reply in pending.Values)
        {
            reply.TrySetException(new InvalidOperationException($"the DevTools connection closed. Browser log: {browserLog}"));
        }
    }

    private void Record(string? method, JsonElement root)
    {
        if (method == "Runtime.exceptionThrown")
        {
            console.Enqueue($"exception: {root.GetProperty("params").GetProperty("exceptionDetails").GetRawText()}");
        }
        else if (method == "Log.entryAdded")
        {
            var entry = root.GetProperty("params").GetProperty("entry");
            if (entry.GetProperty("level").GetString() is "error" or "warning")
            {
                console.Enqueue($"{entry.GetProperty("source").GetString()}: {entry.GetProperty("text").GetString()}");
            }
        }
        else if (method == "Runtime.consoleAPICalled")
        {
            var p = root.GetProperty("params");
            var type = p.GetProperty("type").GetString();
            if (type is "error" or "warning" or "assert")
            {
                console.Enqueue($"{type}: {string.Join(" ", p.GetProperty("args").EnumerateArray().Select(a => a.TryGetProperty("value", out var v) ? v.ToString() : a.GetRawText()))}");
            }
        }
    }
}
