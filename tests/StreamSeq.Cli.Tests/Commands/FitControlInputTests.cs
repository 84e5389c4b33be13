using System.Globalization;
using System.Text.Json;
using StreamSeq.Cli.Commands;

namespace StreamSeq.Cli.Tests.Commands;

/// <summary>
/// <c>fit</c> on a model with control inputs (h_t = F h_{t-1} + c + B u_t + w_t) must use the rows' controls, as
/// <c>run</c> does. The expected numbers come from a plain numpy Kalman filter / RTS smoother / EM step written from
/// the textbook equations (Shumway &amp; Stoffer, with the complete-data moments of partly missing readings) and
/// scipy's optimiser; the data are 40 readings with one or both components missing at some steps.
/// </summary>
public sealed class FitControlInputTests : IDisposable
{
    private const string Model = """
        {"name":"m1","kind":"linear-gaussian","transition":[[0.9,0.2,0],[0,0.8,0.1],[0.1,0,0.7]],
         "transitionNoise":[[0.5,0.1,0],[0.1,0.4,0.05],[0,0.05,0.3]],"transitionOffset":[0.1,-0.2,0.05],
         "observation":[[1,0,0.5],[0,1,-0.3]],"observationNoise":[[1.0,0.3],[0.3,0.8]],"observationOffset":[0.5,-1],
         "control":[[1,0],[0,0.5],[0.2,0.1]],
         "initialMean":[1,2,3],"initialCovariance":[[2,0.5,0],[0.5,1.5,0.2],[0,0.2,1]]}
        """;

    private const string Csv = """
        stream,time,y1,y2,control_1,control_2
        a,1,-0.6038628505068948,-1.64871799125629,-0.24836162209524854,0.4204452380655215
        a,2,3.2720930649792854,1.2194127986436163,-0.5526473205362324,-0.7847803553442784
        a,3,2.4974915414691825,4.269566085917155,0.27276877584472176,-1.2333286640307717
        a,4,-0.9165304108721775,4.200038177998223,0.2028824405086084,-1.7321348424395848
        a,5,,-1.326451946889497,-0.6292880940615545,-0.48800582327685743
        a,6,-0.42662674326448724,2.106756940706579,-0.06308597192528916,-0.5894312580326048
        a,7,1.819275653114234,2.659710614122648,-1.643023371405677,-0.256730126365494
        a,8,-0.9614947120880251,0.6536895502759359,-1.2894187467538587,0.0206903940375912
        a,9,0.9242285179118636,,-1.0479265051202462,-0.3961903304730927
        a,10,-1.1826578033914181,-1.710417492409479,0.22478573245989314,-1.109349937891366
        a,11,3.3405922023565866,2.4331753117476724,-1.9978166924497212,0.272128869412488
        a,12,,,0.04363199256942161,-1.9884297882311208
        a,13,,,0.9620005318430944,-1.1814468079562157
        a,14,2.476083795691368,-1.1979455260728127,-0.33129089269991674,-0.8404731684222111
        a,15,3.897462577843344,2.1364261995765865,2.4317325028452124,0.6419163790823205
        a,16,2.6899854674383508,2.68136575253068,-0.6066115359095516,-0.07002844663838208
        a,17,,0.20689846965405678,0.18879953129109867,-0.021223460417289796
        a,18,2.2184329856654816,0.2701825161052548,-0.15236188875684828,0.24238142867215043
        a,19,1.2060462769736153,-0.7299454925636402,0.8957830431894438,-1.298481208246912
        a,20,-1.4022310976070531,-1.5649835894809239,0.9669722789332148,-0.36060836889927
        a,21,-0.942072757042131,-1.2720427883792933,0.42113113746240616,-1.054840662577835
        a,22,-1.5441564201952844,2.227986124937722,-1.1967077271925706,-0.32243815075139726
        a,23,0.9864769193069565,0.10932926614037541,-0.05409396159544828,1.3387734990547715
        a,24,-0.033788305178549916,-1.5186143177564553,-1.8367457051936795,-0.20476611683386706
        a,25,0.29548597917753905,1.530181813860647,-0.4642445916374816,-0.4786384630527245
        a,26,-0.4426314956972093,-0.03951954474035757,0.1602267063174243,-0.3803527272151388
        a,27,1.200883705665013,4.802374400066514,0.4791181507969435,-1.5760898454352261
        a,28,4.4670591712262135,1.6956207399770709,-0.9414132864509847,0.9070489576858102
        a,29,1.0353112218196778,-0.23043706607013825,-0.6335089254336164,-0.9934317902518573
        a,30,,,-0.3250520988063787,0.42082412505635486
        a,31,4.751292107550558,-1.4291812659596994,0.2575223239234917,-0.30643692685187435
        a,32,-1.1185121996556893,-1.0516943988731944,-0.0152851431653622,0.4338634112001693
        a,33,-0.06317964148606392,1.1087810887189848,0.7222086544347099,0.2965612469178253
        a,34,2.737340379481785,1.9227912163018543,0.4880056756807095,1.8266340649418156
        a,35,2.2463437473851338,1.2589422647112185,0.7099438034419987,-0.9191236755082103
        a,36,0.32459042847826036,2.5864417083892057,0.6307867000938839,1.5483616908312823
        a,37,1.0209460578373657,-1.924655580840903,1.9472469308762064,1.0928928105587499
        a,38,-1.1174748672071333,3.7516473399368326,0.03240279877908362,-1.813928769904867
        a,39,0.15929215715410638,-0.017807667987535636,1.590848160322242,-0.7920686954195238
        a,40,0.4927653192412639,0.4464783863092572,-0.3789727629772628,-0.9140740610326185
        """;

    private readonly string dir = Directory.CreateTempSubdirectory("streamseq-fit-control-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("csv")]
    [InlineData("jsonl")]
    public void Execute_OneEmIterationWithControlInputs_TakesTheReferenceStep(string format)
    {
        var fitted = Fit(format, ["transition", "transitionNoise", "observationNoise"], "em", 1);

        // numpy: log-likelihood at the start -233.24107745330195 (with the controls), after the step:
        AssertMatrix([[0.5681313767508916, 0.15052023030324974, -0.23425875493418447], [-0.08391598453044927, 0.9825945673866127, 0.24021648232584591], [0.0401201289001326, 0.023095352181757345, 0.6531837936403686]], fitted.GetProperty("transition"), 1e-9);
        AssertMatrix([[0.799472973099637, 0.061134075916941984, 0.08150990825716786], [0.06113407591694195, 0.7085666518265469, 0.013533365589905956], [0.08150990825716785, 0.013533365589905966, 0.34573139101935485]], fitted.GetProperty("transitionNoise"), 1e-9);
        AssertMatrix([[2.0345619493968634, 0.5492907031755805], [0.5492907031755805, 2.3364994269134947]], fitted.GetProperty("observationNoise"), 1e-9);
        Assert.Equal(-162.65494926975222, fitted.GetProperty("fit").GetProperty("logLikelihood").GetDouble(), 1e-8);
    }

    [Fact]
    public void Execute_MleWithControlInputs_FindsTheMaximumOfTheLikelihoodWithTheControls()
    {
        var fitted = Fit("csv", ["observationNoise"], "mle", 500);

        // scipy (Nelder-Mead then BFGS on the log-Cholesky factor of R): log-likelihood -178.62579912582402. Without the
        // controls the maximum would be R = [[2.38, 0.41], [0.41, 5.36]] with -160.11.
        AssertMatrix([[4.910931496055261, -0.6018659560573857], [-0.6018659560573857, 6.923284150348844]], fitted.GetProperty("observationNoise"), 1e-4);
        Assert.Equal(-178.62579912582402, fitted.GetProperty("fit").GetProperty("logLikelihood").GetDouble(), 1e-6);
    }

    [Fact]
    public void Cli_ControlColumnsNamedWithTheControlOption_AreTheRowsControlsAsForRun()
    {
        // Columns not named control_* reach fit as control inputs only through --control, as they reach run. Without
        // it the header's four value columns do not fit the model's two observations, and fit said to use an option
        // it did not have.
        var model = Write("m.json", Model);
        var input = Write("named.csv", Csv.Replace("control_1,control_2", "u1,u2", StringComparison.Ordinal) + "\n");
        var output = System.IO.Path.Combine(dir, "f.json");

        var (code, errors) = InProcessCli.Invoke("fit", "-m", model, "-i", input, "-o", output, "--control", "u1,u2", "--method", "em", "--max-iterations", "1", "--fit", "transition,transitionNoise,observationNoise");

        Assert.True(code == 0, errors);
        var fitted = JsonDocument.Parse(File.ReadAllText(output)).RootElement;
        // The numpy step of the theory above: the same rows, the same controls.
        AssertMatrix([[2.0345619493968634, 0.5492907031755805], [0.5492907031755805, 2.3364994269134947]], fitted.GetProperty("observationNoise"), 1e-9);
        Assert.Equal(-162.65494926975222, fitted.GetProperty("fit").GetProperty("logLikelihood").GetDouble(), 1e-8);
    }

    [Fact]
    public void Cli_ControlOptionOnJsonLines_IsAUsageErrorNotIgnored()
    {
        var model = Write("m.json", Model);
        var input = Write("d.jsonl", ToJsonLines(Csv));
        var output = System.IO.Path.Combine(dir, "f.json");

        var (code, errors) = InProcessCli.Invoke("fit", "-m", model, "-i", input, "-o", output, "--control", "u1", "--fit", "observationNoise");

        Assert.Equal(2, code);
        Assert.Contains("--control: names CSV columns, and d.jsonl is JSON Lines", errors, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    private JsonElement Fit(string format, string[] parameters, string method, int iterations)
    {
        var model = Write("m.json", Model);
        var input = Write("d." + format, format == "csv" ? Csv + "\n" : ToJsonLines(Csv));
        var output = System.IO.Path.Combine(dir, "f.json");
        var errors = new StringWriter();
        Assert.True(FitCommand.Execute(model, input, output, parameters, method, iterations, 0, errors) == 0, errors.ToString());
        return JsonDocument.Parse(File.ReadAllText(output)).RootElement;
    }

    private string Write(string name, string contents)
    {
        var path = System.IO.Path.Combine(dir, name);
        File.WriteAllText(path, contents);
        return path;
    }

    private static string ToJsonLines(string csv)
    {
        var lines = csv.Split('\n').Skip(1).Select(line =>
        {
            var cells = line.Split(',');
            static string Number(string cell) => cell.Length == 0 ? "null" : cell;
            return string.Create(CultureInfo.InvariantCulture, $$"""{"stream":"{{cells[0]}}","time":{{cells[1]}},"values":[{{Number(cells[2])}},{{Number(cells[3])}}],"control":[{{cells[4]}},{{cells[5]}}]}""");
        });
        return string.Join('\n', lines) + "\n";
    }

    private static void AssertMatrix(double[][] expected, JsonElement actual, double tolerance)
    {
        for (var i = 0; i < expected.Length; i++)
        {
            for (var j = 0; j < expected[i].Length; j++)
            {
                var a = actual[i][j].GetDouble();
                Assert.True(Math.Abs(a - expected[i][j]) <= tolerance * Math.Max(1.0, Math.Abs(expected[i][j])), $"[{i}][{j}]: {a:R}, expected {expected[i][j]:R}");
            }
        }
    }
}
