using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace MLNet.Vae.Platform;

/// <summary>
/// The slots of a loaded shared library's global offset table through which it calls one dynamic symbol: where the dynamic
/// linker writes that function's address (<c>R_X86_64_JUMP_SLOT</c> and <c>R_X86_64_GLOB_DAT</c> relocations). Writing
/// another address there redirects the library's own calls, as <c>LD_PRELOAD</c> would, without touching any file on disk
/// and without affecting other libraries. Linux, x86-64, ELF64 little-endian only.
/// </summary>
/// <remarks>
/// The slots are found from the library's file (section headers, <c>.dynsym</c>, its string table and the <c>RELA</c>
/// sections that refer to it) and its load address from the dynamic linker (<c>dlinfo(RTLD_DI_LINKMAP)</c>). Before writing,
/// <see cref="Redirect"/> checks that each slot holds what the dynamic linker puts there: the resolved function, or (lazy
/// binding, not yet called) an address inside the library's own PLT.
/// </remarks>
internal sealed unsafe partial class ImportSlots
{
    private const uint SectionTypeRela = 4;
    private const uint SectionTypeDynSym = 11;
    private const uint ProgramTypeLoad = 1;
    private const uint ProgramTypeRelro = 0x6474e552;
    private const uint RelocationGlobalData = 6;
    private const uint RelocationJumpSlot = 7;
    private const int RtldLazy = 0x1;
    private const int RtldNoLoad = 0x4;
    private const int RtldDiLinkMap = 2;
    private const int ProtectRead = 1;
    private const int ProtectWrite = 2;

    private readonly nint[] _slots;
    private readonly (nint Start, nint End) _relro;
    private readonly (nint Start, nint End) _image;
    private readonly nint _resolved;

    private ImportSlots(string library, string symbol, nint[] slots, (nint, nint) relro, (nint, nint) image, nint resolved)
    {
        Library = library;
        Symbol = symbol;
        _slots = slots;
        _relro = relro;
        _image = image;
        _resolved = resolved;
    }

    /// <summary>The library's path as the dynamic linker loaded it.</summary>
    public string Library { get; }

    public string Symbol { get; }

    /// <summary>How many slots call <see cref="Symbol"/> (0: the library never calls it through its offset table).</summary>
    public int Count => _slots.Length;

    /// <summary>
    /// Finds the slots of <paramref name="symbol"/> in the already loaded library whose file name is
    /// <paramref name="soname"/>; null with the reason when it is not loaded or not a 64-bit little-endian ELF file.
    /// </summary>
    public static ImportSlots? Find(string soname, string symbol, out string whyNot)
    {
        nint handle = DlOpen(soname, RtldLazy | RtldNoLoad);
        if (handle == 0)
        {
            whyNot = $"{soname} is not loaded";
            return null;
        }
        try
        {
            if (DlInfo(handle, RtldDiLinkMap, out nint linkMap) != 0 || linkMap == 0)
            {
                whyNot = $"the dynamic linker gave no link map for {soname}";
                return null;
            }
            // struct link_map { ElfW(Addr) l_addr; char *l_name; ... }
            nint loadBias = *(nint*)linkMap;
            string path = Marshal.PtrToStringUTF8(*(nint*)(linkMap + sizeof(nint))) ?? "";
            using var file = File.OpenHandle(path);
            var layout = ReadLayout(file, symbol, out whyNot);
            if (layout is null) return null;
            var (offsets, relro, image) = layout.Value;
            return new ImportSlots(path, symbol, offsets.Select(o => loadBias + (nint)o).ToArray(),
                (loadBias + (nint)relro.Start, loadBias + (nint)relro.End), (loadBias + (nint)image.Start, loadBias + (nint)image.End),
                DlSym(handle, symbol));
        }
        finally
        {
            DlClose(handle);
        }
    }

    /// <summary>
    /// Makes every slot hold <paramref name="target"/>. Returns false, writing nothing, when a slot holds something the
    /// dynamic linker would not have put there (another tool already redirected it).
    /// </summary>
    public bool Redirect(nint target)
    {
        foreach (nint slot in _slots)
        {
            nint current = *(nint*)slot;
            bool lazyStub = current >= _image.Start && current < _image.End;
            if (current != _resolved && current != target && !lazyStub) return false;
        }
        foreach (nint slot in _slots)
        {
            bool readOnly = slot >= _relro.Start && slot < _relro.End;
            nint page = slot & ~(nint)(Environment.SystemPageSize - 1);
            if (readOnly && MProtect(page, Environment.SystemPageSize, ProtectRead | ProtectWrite) != 0)
                throw new InvalidOperationException($"mprotect refused to open {Symbol}'s slot in {Library} for writing (errno {Marshal.GetLastPInvokeError()}).");
            Interlocked.Exchange(ref *(nint*)slot, target);
            if (readOnly) MProtect(page, Environment.SystemPageSize, ProtectRead);
        }
        return true;
    }

    /// <summary>The slots' offsets in the file's address space, the RELRO range and the extent of the loaded segments.</summary>
    private static (List<ulong> Offsets, (ulong Start, ulong End) Relro, (ulong Start, ulong End) Image)? ReadLayout(
        Microsoft.Win32.SafeHandles.SafeFileHandle file, string symbol, out string whyNot)
    {
        var header = Read(file, 0, 64);
        if (header.Length < 64 || !header.AsSpan(0, 4).SequenceEqual("\u007fELF"u8) || header[4] != 2 || header[5] != 1 || U16(header, 18) != 62)
        {
            whyNot = "the library is not an x86-64 ELF64 little-endian file";
            return null;
        }
        var programs = Read(file, (long)U64(header, 32), U16(header, 56) * 56);
        (ulong, ulong) relro = (0, 0), image = (ulong.MaxValue, 0);
        for (int at = 0; at + 56 <= programs.Length; at += 56)
        {
            uint type = U32(programs, at);
            ulong start = U64(programs, at + 16), end = start + U64(programs, at + 40);
            if (type == ProgramTypeRelro) relro = (start, end);
            if (type == ProgramTypeLoad) image = (Math.Min(image.Item1, start), Math.Max(image.Item2, end));
        }

        var sections = Read(file, (long)U64(header, 40), U16(header, 60) * 64);
        int dynsym = -1;
        for (int i = 0; i * 64 + 64 <= sections.Length; i++)
            if (U32(sections, i * 64 + 4) == SectionTypeDynSym) dynsym = i;
        if (dynsym < 0)
        {
            whyNot = "the library has no dynamic symbol table";
            return null;
        }
        long index = SymbolIndex(file, sections, dynsym, symbol);
        var offsets = new List<ulong>();
        for (int i = 0; i * 64 + 64 <= sections.Length && index >= 0; i++)
        {
            if (U32(sections, i * 64 + 4) != SectionTypeRela || U32(sections, i * 64 + 40) != dynsym) continue;
            var relocations = Read(file, (long)U64(sections, i * 64 + 24), checked((int)U64(sections, i * 64 + 32)));
            for (int at = 0; at + 24 <= relocations.Length; at += 24)
            {
                ulong info = U64(relocations, at + 8);
                uint type = (uint)info;
                if ((long)(info >> 32) == index && type is RelocationJumpSlot or RelocationGlobalData) offsets.Add(U64(relocations, at));
            }
        }
        whyNot = "";
        return (offsets, relro, image);
    }

    /// <summary>The index of <paramref name="symbol"/> in the dynamic symbol table, or −1.</summary>
    private static long SymbolIndex(Microsoft.Win32.SafeHandles.SafeFileHandle file, byte[] sections, int dynsym, string symbol)
    {
        int stringsSection = (int)U32(sections, dynsym * 64 + 40);
        var symbols = Read(file, (long)U64(sections, dynsym * 64 + 24), checked((int)U64(sections, dynsym * 64 + 32)));
        var strings = Read(file, (long)U64(sections, stringsSection * 64 + 24), checked((int)U64(sections, stringsSection * 64 + 32)));
        var wanted = Encoding.ASCII.GetBytes(symbol + "\0");
        for (int at = 0; at + 24 <= symbols.Length; at += 24)
        {
            long name = U32(symbols, at);
            if (name + wanted.Length <= strings.Length && strings.AsSpan((int)name, wanted.Length).SequenceEqual(wanted)) return at / 24;
        }
        return -1;
    }

    private static byte[] Read(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, int length)
    {
        var buffer = new byte[length];
        int read = 0;
        while (read < length)
        {
            int n = RandomAccess.Read(file, buffer.AsSpan(read), offset + read);
            if (n == 0) return buffer[..read];
            read += n;
        }
        return buffer;
    }

    private static ushort U16(byte[] b, int at) => BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(at));
    private static uint U32(byte[] b, int at) => BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(at));
    private static ulong U64(byte[] b, int at) => BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(at));

    [LibraryImport("libc.so.6", EntryPoint = "dlopen", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlOpen(string file, int mode);

    [LibraryImport("libc.so.6", EntryPoint = "dlinfo")]
    private static partial int DlInfo(nint handle, int request, out nint info);

    [LibraryImport("libc.so.6", EntryPoint = "dlsym", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint DlSym(nint handle, string symbol);

    [LibraryImport("libc.so.6", EntryPoint = "dlclose")]
    private static partial int DlClose(nint handle);

    /// <summary>libc's mprotect (also used by <see cref="MklCpuDispatch"/> for its code page).</summary>
    [LibraryImport("libc.so.6", EntryPoint = "mprotect", SetLastError = true)]
    internal static partial int MProtect(nint address, nint length, int protection);
}
