using System.Text.Json;
using System.Text.RegularExpressions;
using StreamSeq.Testing;
using StreamSeq.Worker.Tests.Support;

namespace StreamSeq.Worker.Tests.Dashboard;

/// <summary>The dashboard's pages work offline: no external references, and the vendored library is the locked one.</summary>
public sealed partial class DashboardAssetsTests
{
    private static string Web(params string[] parts) => RepositoryFiles.Path(["src", "StreamSeq.Worker", .. parts]);

    [Fact]
    public void VendoredUplot_IsTheVersionInTheLockFile()
    {
        var locked = JsonDocument.Parse(File.ReadAllText(Web("web", "package-lock.json"))).RootElement
            .GetProperty("packages").GetProperty("node_modules/uplot").GetProperty("version").GetString();
        var pinned = JsonDocument.Parse(File.ReadAllText(Web("web", "package.json"))).RootElement
            .GetProperty("dependencies").GetProperty("uplot").GetString();
        var vendored = File.ReadAllText(Web("wwwroot", "vendor", "uplot", "VERSION")).Trim();
        Assert.Equal(pinned, locked);
        Assert.Equal(locked, vendored);
        Assert.Contains($"(v{vendored})", File.ReadLines(Web("wwwroot", "vendor", "uplot", "uPlot.iife.min.js")).First(), StringComparison.Ordinal);
        Assert.True(File.Exists(Web("wwwroot", "vendor", "uplot", "LICENSE")));
    }

    [Fact]
    public void Pages_ReferenceOnlyFilesServedByTheWorker()
    {
        var root = Web("wwwroot");
        var own = Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}vendor{Path.DirectorySeparatorChar}", StringComparison.Ordinal) && !f.EndsWith(".svg", StringComparison.Ordinal))
            .ToList();
        Assert.NotEmpty(own);
        foreach (var file in own)
        {
            var text = File.ReadAllText(file);
            Assert.DoesNotMatch(@"https?://|//cdn|@import", text);
        }

        foreach (var page in own.Where(f => f.EndsWith(".html", StringComparison.Ordinal)))
        {
            foreach (Match m in Reference().Matches(File.ReadAllText(page)))
            {
                var target = m.Groups[1].Value;
                if (target == "./")
                {
                    continue; // the stream list itself (index.html)
                }

                Assert.True(File.Exists(Path.Combine(root, target)), $"{Path.GetFileName(page)} references {target}, which is not in wwwroot");
            }
        }
    }

    [GeneratedRegex("(?:src|href)=\"([^\"?#]+)\"")]
    private static partial Regex Reference();
}
