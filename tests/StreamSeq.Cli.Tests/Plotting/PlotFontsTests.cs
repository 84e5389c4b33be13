using ScottPlot;
using StreamSeq.Cli.Plotting;

namespace StreamSeq.Cli.Tests.Plotting;

public sealed class PlotFontsTests
{
    [Fact]
    public void EnsureInstalled_DefaultFontComesFromTheTool()
    {
        // The font travels in the assembly, so charts get text on a machine without any fonts or fontconfig.
        PlotFonts.EnsureInstalled();
        Assert.Equal(PlotFonts.Family, Fonts.Default);
        using var typeface = Fonts.GetTypeface(PlotFonts.Family, bold: false, italic: false);
        Assert.Equal("DejaVu Sans", typeface.FamilyName);
        using var font = new SkiaSharp.SKFont(typeface);
        var glyphs = font.GetGlyphs("time (UTC) °C");
        Assert.Equal(13, glyphs.Length);
        Assert.All(glyphs, g => Assert.NotEqual(0, g));
    }
}
