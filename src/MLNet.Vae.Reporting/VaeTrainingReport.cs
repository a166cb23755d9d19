namespace MLNet.Vae.Reporting;

/// <summary>One chart or picture of a training report.</summary>
/// <param name="FileName">The PNG file's name in the report folder.</param>
/// <param name="Title">What it shows.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Series">Each plotted series (or image row) and how many points (or images) it holds.</param>
public sealed record VaeReportChart(string FileName, string Title, int Width, int Height, IReadOnlyDictionary<string, int> Series);

/// <summary>The files a training report wrote.</summary>
/// <param name="Folder">The report folder.</param>
/// <param name="HtmlPath">The self-contained page (charts embedded), next to the PNG files.</param>
/// <param name="Charts">The charts and pictures, in page order.</param>
public sealed record VaeTrainingReport(string Folder, string HtmlPath, IReadOnlyList<VaeReportChart> Charts);
