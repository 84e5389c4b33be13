using ScottPlot;
using SkiaSharp;
using StreamSeq.Cli.Io;

namespace StreamSeq.Cli.Plotting;

/// <summary>Writes stream charts to PNG or SVG files, one chart per file or several in a grid.</summary>
internal static class PlotRenderer
{
    /// <summary>Columns of a grid of <paramref name="count"/> charts: one for a single chart, two otherwise.</summary>
    public static int GridColumns(int count) => count <= 1 ? 1 : 2;

    /// <summary>Rows of a grid of <paramref name="count"/> charts.</summary>
    public static int GridRows(int count) => (count + GridColumns(count) - 1) / GridColumns(count);

    /// <summary>Writes one chart.</summary>
    public static void WriteSingle(string path, StreamSeries series, int component, int width, int height)
    {
        PlotFonts.EnsureInstalled();
        var plot = new Plot();
        StreamPlotter.Draw(plot, series, component, dashes: !IsSvg(path));
        Save(path, width, height, canvas => plot.Render(canvas, width, height));
    }

    /// <summary>Writes several charts in a grid; each cell is <paramref name="width"/>×<paramref name="height"/>.</summary>
    public static void WriteGrid(string path, IReadOnlyList<StreamSeries> series, int component, int width, int height)
    {
        var columns = GridColumns(series.Count);
        var rows = GridRows(series.Count);
        PlotFonts.EnsureInstalled();
        var multiplot = new Multiplot();
        multiplot.AddPlots(series.Count);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        for (var i = 0; i < series.Count; i++)
        {
            StreamPlotter.Draw(multiplot.GetPlot(i), series[i], Math.Min(component, series[i].Components - 1), dashes: !IsSvg(path));
        }

        var totalWidth = width * columns;
        var totalHeight = height * rows;
        Save(path, totalWidth, totalHeight, canvas => multiplot.Render(canvas, new PixelRect(0, totalWidth, totalHeight, 0)));
    }

    /// <summary>Renders into a temporary file beside <paramref name="path"/> and renames it into place when done.</summary>
    private static void Save(string path, int width, int height, Action<SKCanvas> render)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory))
        {
            OutputFiles.CreateFolder("--output", directory);
        }

        using var file = OutputFiles.Open("--output", path);
        if (IsSvg(path))
        {
            using var canvas = SKSvgCanvas.Create(new SKRect(0, 0, width, height), file.Stream);
            canvas.Clear(SKColors.White);
            render(canvas);
        }
        else
        {
            using var surface = SKSurface.Create(new SKImageInfo(width, height)) ?? throw new IOException($"--output: cannot draw a {width}x{height} image.");
            surface.Canvas.Clear(SKColors.White);
            render(surface.Canvas);
            using var image = surface.Snapshot();
            using var png = image.Encode(SKEncodedImageFormat.Png, 100);
            png.SaveTo(file.Stream);
        }

        file.Commit();
    }

    /// <summary>True for an .svg path (anything else is written as PNG).</summary>
    public static bool IsSvg(string path) => path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase);
}
