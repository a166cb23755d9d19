using Spectre.Console;

namespace MLNet.Vae.Cli;

/// <summary>
/// A progress bar for long work (Spectre.Console), drawn on standard error only when it is a terminal: redirected to a file,
/// a pipe or a test's writer, the tool prints its plain lines and nothing else.
/// </summary>
internal static class TerminalProgress
{
    /// <summary>Whether <paramref name="error"/> is the process's standard error and that is a terminal.</summary>
    public static bool IsInteractive(TextWriter error) => ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected;

    /// <summary>
    /// Runs <paramref name="work"/>, giving it a way to move the bar (a fraction in [0, 1], or NaN when unknown, and a description); on a terminal
    /// the bar shows them with the percentage and the time left, elsewhere the updates are ignored.
    /// </summary>
    public static T Run<T>(TextWriter error, string title, Func<Action<double, string>, T> work)
    {
        if (!IsInteractive(error)) return work((_, _) => { });
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                var task = context.AddTask(Markup.Escape(title), maxValue: 1.0);
                result = work((fraction, description) =>
                {
                    // NaN: how much is left is not known (a CSV read as it streams); the bar says work goes on.
                    task.IsIndeterminate = double.IsNaN(fraction);
                    if (!double.IsNaN(fraction)) task.Value = Math.Clamp(fraction, 0, 1);
                    task.Description = Markup.Escape(description);
                });
                task.Value = 1;
            });
        return result;
    }
}
