namespace MLNet.Vae.Cli;

/// <summary>
/// Where the tool writes: a file written under a temporary name in its own folder and moved over the target only when it
/// is complete (Ctrl-C, a kill or a full disk leave the old file as it was), or standard output for "-". An output that is
/// also an input of the command, or whose folder is missing or read-only, is refused before any work is done.
/// </summary>
internal static class OutputFile
{
    /// <summary>The path that names standard input or output.</summary>
    public const string StandardStream = "-";

    /// <summary>
    /// Refuses <paramref name="path"/> (given with <paramref name="flag"/>) when it is one of <paramref name="inputs"/> (the
    /// same file, links resolved) or its folder does not exist or cannot be written.
    /// </summary>
    public static void Check(string path, string flag, params string?[] inputs)
    {
        if (path == StandardStream) return;
        string target = Resolved(path);
        foreach (string? input in inputs)
        {
            if (input is null || input == StandardStream) continue;
            if (string.Equals(Resolved(input), target, StringComparison.Ordinal))
                throw new CliException($"{flag} '{path}' is also an input of this command: writing it would destroy that input. Choose another path.");
        }
        if (Directory.Exists(target)) throw new CliException($"{flag} '{path}' is a folder: give a file name.");
        string folder = Path.GetDirectoryName(target)!;
        if (!Directory.Exists(folder)) throw new CliException($"{flag} '{path}': the folder '{folder}' does not exist.");
        string probe = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.probe");
        try
        {
            using (File.Create(probe, 1, FileOptions.DeleteOnClose)) { }
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            throw new CliException($"{flag} '{path}': the folder '{folder}' cannot be written ({e.Message}).");
        }
    }

    /// <summary>
    /// Writes <paramref name="path"/> through <paramref name="write"/>: to a temporary file beside it, moved over it when
    /// complete; to <paramref name="standardOutput"/> for "-".
    /// </summary>
    public static void Write(string path, Action<Stream> write, TextWriter standardOutput)
    {
        if (path == StandardStream)
        {
            standardOutput.Flush();
            using var stream = Console.OpenStandardOutput();
            write(stream);
            return;
        }
        string target = Path.GetFullPath(path);
        string temporary = Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.writing");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, target, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    /// <summary>As <see cref="Write(string, Action{Stream}, TextWriter)"/> for text; standard output takes it as it is.</summary>
    public static void WriteText(string path, Action<TextWriter> write, TextWriter standardOutput)
    {
        if (path == StandardStream)
        {
            write(standardOutput);
            standardOutput.Flush();
            return;
        }
        Write(path, stream =>
        {
            using var writer = new StreamWriter(stream, leaveOpen: true);
            write(writer);
        }, standardOutput);
    }

    private static string Resolved(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            return new FileInfo(full).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }
}
