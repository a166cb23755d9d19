using MLNet.Vae.ServingSample;

// A web service over a saved MLNet.Vae model (docs/serving.md):
//   dotnet run --project src/MLNet.Vae.ServingSample -- --ModelPath model.zip
//   curl -s localhost:5000/score -H 'Content-Type: application/json' -d '{"features":[0.1,0.2,...]}'
var builder = WebApplication.CreateBuilder(args);
string modelPath = builder.Configuration["ModelPath"] ?? "model.zip";
// Loaded at start-up, not at the first request: a missing or damaged file stops the service before it listens.
builder.Services.AddSingleton(new AnomalyScorer(modelPath, builder.Configuration["FeatureColumn"] ?? "Features"));
builder.Services.AddProblemDetails();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();

app.MapGet("/model", (AnomalyScorer scorer) => scorer.Describe());
app.MapPost("/score", (ScoreRequest request, AnomalyScorer scorer) => Answer(() => scorer.Score(request.Features)));
app.MapPost("/score/batch", (BatchScoreRequest request, AnomalyScorer scorer) =>
    request.Rows is { Length: > 0 and <= MaximumBatch }
        ? Answer(() => scorer.Score(request.Rows))
        : Results.Problem($"A batch holds 1 to {MaximumBatch} rows.", statusCode: StatusCodes.Status400BadRequest));

app.Run();

// A rejected row is the caller's mistake (400, with the reason); anything else is the service's (500, logged).
static IResult Answer<T>(Func<T> score)
{
    try
    {
        return Results.Ok(score());
    }
    catch (RowRejectedException e)
    {
        return Results.Problem(e.Message, statusCode: StatusCodes.Status400BadRequest);
    }
}

/// <summary>The service's entry point (named so that tests can host it).</summary>
public partial class Program
{
    /// <summary>The most rows one batch call scores: keeps one request's memory bounded.</summary>
    public const int MaximumBatch = 10_000;
}
