using System.Buffers.Binary;
using System.Text;

namespace MLNet.Vae.Build;

/// <summary>
/// A 64-bit little-endian ELF shared object held in memory, with just the pieces of the dynamic-linking
/// metadata that symbol versioning needs: section headers, <c>.dynsym</c>, <c>.gnu.version</c> (versym),
/// <c>.gnu.version_r</c> (verneed) and <c>.gnu.version_d</c> (verdef).
/// Field offsets follow the System V gABI and the LSB "Symbol Versioning" chapter.
/// </summary>
public sealed class ElfImage
{
    public const uint SectionTypeDynSym = 11;
    public const uint SectionTypeGnuVerDef = 0x6ffffffd;
    public const uint SectionTypeGnuVerNeed = 0x6ffffffe;
    public const uint SectionTypeGnuVerSym = 0x6fffffff;
    public const ushort VersionFlagWeak = 0x2;
    public const byte BindingGlobal = 1;
    public const byte BindingWeak = 2;
    public const ushort VersionIndexGlobal = 1;
    private const int SymbolEntrySize = 24;

    private ElfImage(byte[] bytes, IReadOnlyList<Section> sections)
    {
        Bytes = bytes;
        Sections = sections;
    }

    /// <summary>The file's bytes; the patch edits them in place.</summary>
    public byte[] Bytes { get; }

    public IReadOnlyList<Section> Sections { get; }

    /// <summary>One section header (only the fields this tool needs).</summary>
    public sealed record Section(int Index, uint Type, long Offset, long Size, int Link, long EntrySize);

    /// <summary>One Vernaux record: a version that the file needs from <paramref name="LibraryName"/>.</summary>
    public sealed record NeededVersion(string LibraryName, string VersionName, ushort Flags, ushort VersionIndex, long FlagsOffset)
    {
        public bool IsWeak => (Flags & VersionFlagWeak) != 0;
    }

    /// <summary>One dynamic symbol with its version index.</summary>
    public sealed record DynamicSymbol(int Index, string Name, byte Binding, ushort SectionIndex, ushort VersionIndex, long InfoOffset, long VersionOffset)
    {
        public bool IsUndefined => SectionIndex == 0;
    }

    /// <summary>Reads <paramref name="bytes"/> as an ELF64 little-endian file, or explains why it is not one.</summary>
    public static bool TryParse(byte[] bytes, out ElfImage? image, out string whyNot)
    {
        image = null;
        if (bytes.Length < 64 || bytes[0] != 0x7f || bytes[1] != (byte)'E' || bytes[2] != (byte)'L' || bytes[3] != (byte)'F')
        {
            whyNot = "it is not an ELF file (no \\x7fELF magic number)";
            return false;
        }
        if (bytes[4] != 2 || bytes[5] != 1)
        {
            whyNot = "it is not a 64-bit little-endian ELF file";
            return false;
        }
        long sectionTableOffset = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(40));
        int sectionEntrySize = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(58));
        int sectionCount = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(60));
        if (sectionEntrySize != 64 || sectionTableOffset <= 0 || sectionTableOffset + (long)sectionCount * 64 > bytes.Length)
        {
            whyNot = "its section header table is missing or lies outside the file";
            return false;
        }
        var sections = new List<Section>(sectionCount);
        for (int i = 0; i < sectionCount; i++)
        {
            var header = bytes.AsSpan((int)(sectionTableOffset + i * 64L), 64);
            var section = new Section(
                Index: i,
                Type: BinaryPrimitives.ReadUInt32LittleEndian(header[4..]),
                Offset: (long)BinaryPrimitives.ReadUInt64LittleEndian(header[24..]),
                Size: (long)BinaryPrimitives.ReadUInt64LittleEndian(header[32..]),
                Link: (int)BinaryPrimitives.ReadUInt32LittleEndian(header[40..]),
                EntrySize: (long)BinaryPrimitives.ReadUInt64LittleEndian(header[56..]));
            // NOBITS sections (type 8) occupy no file bytes.
            if (section.Type != 8 && section.Size > 0 && (section.Offset < 0 || section.Offset + section.Size > bytes.Length))
            {
                whyNot = $"section {i} lies outside the file (truncated or corrupt)";
                return false;
            }
            sections.Add(section);
        }
        image = new ElfImage(bytes, sections);
        whyNot = "";
        return true;
    }

    private Section? FindSection(uint type) => Sections.FirstOrDefault(s => s.Type == type);

    private string ReadString(Section stringTable, long offset)
    {
        long start = stringTable.Offset + offset;
        if (offset < 0 || offset >= stringTable.Size)
            throw new InvalidDataException($"string offset {offset} is outside its string table");
        long end = start;
        long limit = stringTable.Offset + stringTable.Size;
        while (end < limit && Bytes[end] != 0) end++;
        return Encoding.ASCII.GetString(Bytes, (int)start, (int)(end - start));
    }

    private ushort U16(long offset) => BinaryPrimitives.ReadUInt16LittleEndian(Bytes.AsSpan((int)offset));
    private uint U32(long offset) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes.AsSpan((int)offset));

    /// <summary>Every version this file needs from other libraries (the verneed chain and its Vernaux lists).</summary>
    public IReadOnlyList<NeededVersion> ReadNeededVersions()
    {
        var result = new List<NeededVersion>();
        var verneed = FindSection(SectionTypeGnuVerNeed);
        if (verneed is null) return result;
        var strings = Sections[verneed.Link];
        long entry = verneed.Offset;
        for (int guard = 0; guard < 4096; guard++)
        {
            ushort auxCount = U16(entry + 2);
            string library = ReadString(strings, U32(entry + 4));
            long aux = entry + U32(entry + 8);
            for (int a = 0; a < auxCount; a++)
            {
                result.Add(new NeededVersion(library, ReadString(strings, U32(aux + 8)), U16(aux + 4), U16(aux + 6), aux + 4));
                uint nextAux = U32(aux + 12);
                if (nextAux == 0) break;
                aux += nextAux;
            }
            uint next = U32(entry + 12);
            if (next == 0) break;
            entry += next;
        }
        return result;
    }

    /// <summary>Every version name this file defines (the verdef chain), e.g. a libstdc++'s <c>GLIBCXX_3.4.30</c>.</summary>
    public IReadOnlySet<string> ReadDefinedVersions()
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var verdef = FindSection(SectionTypeGnuVerDef);
        if (verdef is null) return result;
        var strings = Sections[verdef.Link];
        long entry = verdef.Offset;
        for (int guard = 0; guard < 4096; guard++)
        {
            long aux = entry + U32(entry + 12);
            result.Add(ReadString(strings, U32(aux)));
            uint next = U32(entry + 16);
            if (next == 0) break;
            entry += next;
        }
        return result;
    }

    /// <summary>The dynamic symbol table with each symbol's version index.</summary>
    public IReadOnlyList<DynamicSymbol> ReadDynamicSymbols()
    {
        var result = new List<DynamicSymbol>();
        var dynsym = FindSection(SectionTypeDynSym);
        var versym = FindSection(SectionTypeGnuVerSym);
        if (dynsym is null) return result;
        var strings = Sections[dynsym.Link];
        long count = dynsym.Size / SymbolEntrySize;
        for (int i = 0; i < count; i++)
        {
            long symbol = dynsym.Offset + (long)i * SymbolEntrySize;
            long versionOffset = versym is null ? -1 : versym.Offset + 2L * i;
            ushort version = versionOffset < 0 ? VersionIndexGlobal : (ushort)(U16(versionOffset) & 0x7fff);
            result.Add(new DynamicSymbol(i, ReadString(strings, U32(symbol)), (byte)(Bytes[symbol + 4] >> 4),
                U16(symbol + 6), version, symbol + 4, versionOffset));
        }
        return result;
    }

    /// <summary>Sets <c>VER_FLG_WEAK</c> on a needed version, so the loader accepts the file without it.</summary>
    public void MarkWeak(NeededVersion version) =>
        BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan((int)version.FlagsOffset), (ushort)(version.Flags | VersionFlagWeak));

    /// <summary>Makes a symbol an unversioned weak reference: versym index 1 and binding <c>STB_WEAK</c>.</summary>
    public void MakeUnversionedWeak(DynamicSymbol symbol)
    {
        if (symbol.VersionOffset >= 0)
            BinaryPrimitives.WriteUInt16LittleEndian(Bytes.AsSpan((int)symbol.VersionOffset), VersionIndexGlobal);
        byte type = (byte)(Bytes[symbol.InfoOffset] & 0x0f);
        Bytes[symbol.InfoOffset] = (byte)((BindingWeak << 4) | type);
    }
}
