using Mono.Cecil;

// Usage: MLNet.Vae.Publicizer <output-folder> <assembly.dll>...
// Writes, for each assembly, a reference copy whose internal types and members are public. Only "internal" and
// "private protected" change (to public and protected); protected members stay protected so that overrides of them in
// MLNet.Vae keep compiling, and private members stay private. The copies are compile-time references only: at run
// time the real assemblies load, and [IgnoresAccessChecksTo] in MLNet.Vae lets it call their internals.
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: MLNet.Vae.Publicizer <output-folder> <assembly.dll>...");
    return 2;
}

string output = Directory.CreateDirectory(args[0]).FullName;
var resolver = new DefaultAssemblyResolver();
foreach (string input in args.Skip(1)) resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(input))!);

foreach (string input in args.Skip(1))
{
    using var assembly = AssemblyDefinition.ReadAssembly(input, new ReaderParameters { AssemblyResolver = resolver });
    int changed = 0;
    foreach (var type in assembly.MainModule.GetTypes())
        changed += Publicizer.Publicize(type);
    string destination = Path.Combine(output, Path.GetFileName(input));
    assembly.Write(destination, new WriterParameters { DeterministicMvid = true });
    Console.WriteLine($"MLNet.Vae.Publicizer: {Path.GetFileName(input)} -> {destination} ({changed} members opened)");
}
return 0;

static class Publicizer
{
    public static int Publicize(TypeDefinition type)
    {
        int changed = 0;
        if (type.IsNested ? type.IsNestedAssembly || type.IsNestedFamilyAndAssembly : type.IsNotPublic)
        {
            if (type.IsNested) type.IsNestedPublic = true; else type.IsPublic = true;
            changed++;
        }
        foreach (var method in type.Methods)
        {
            if (method.IsAssembly) { method.IsPublic = true; changed++; }
            else if (method.IsFamilyAndAssembly) { method.IsFamily = true; changed++; }
        }
        foreach (var field in type.Fields)
        {
            if (field.IsAssembly) { field.IsPublic = true; changed++; }
            else if (field.IsFamilyAndAssembly) { field.IsFamily = true; changed++; }
        }
        return changed;
    }
}
