using ScottPlot;
using SkiaSharp;

namespace StreamSeq.Cli.Plotting;

/// <summary>
/// Makes every plot use DejaVu Sans from inside the tool. SkiaSharp's dependency-free Linux build (the one ScottPlot
/// brings) needs no fontconfig but finds no fonts on a bare machine, and would draw no text at all; an embedded font
/// gives text everywhere and identical images on every machine.
/// </summary>
internal static class PlotFonts
{
    public const string Family = "DejaVu Sans";

    private static readonly Lazy<bool> Installed = new(Install);

    /// <summary>Registers the embedded font as ScottPlot's default (once per process).</summary>
    public static void EnsureInstalled() => _ = Installed.Value;

    private static bool Install()
    {
        using var stream = typeof(PlotFonts).Assembly.GetManifestResourceStream("StreamSeq.Cli.Plotting.DejaVuSans.ttf")
            ?? throw new InvalidOperationException("the embedded plot font is missing from the assembly.");
        var data = SKData.Create(stream); // kept for the life of the process, as the typeface reads from it
        var typeface = SKTypeface.FromData(data) ?? throw new InvalidOperationException("the embedded plot font could not be loaded.");
        Fonts.FontResolvers.Insert(0, new Resolver(typeface));
        Fonts.Default = Family;
        Fonts.Sans = Family;
        return true;
    }

    private sealed class Resolver(SKTypeface typeface) : IFontResolver
    {
        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing width) =>
            fontName == Family ? typeface : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            fontName == Family ? typeface : null;
    }
}
