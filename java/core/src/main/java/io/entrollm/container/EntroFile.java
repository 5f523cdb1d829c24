package io.entrollm.container;

import io.entrollm.codec.HuffmanCodebook;
import io.entrollm.codec.HuffmanStream;
import io.entrollm.model.StoredTensor;
import io.entrollm.container.EntroLayout.Section;
import io.entrollm.container.EntroLayout.SectionKind;
import io.entrollm.format.FormatException;
import io.entrollm.io.Alignment;
import io.entrollm.io.MappedFile;
import io.entrollm.quant.AppliedScheme;
import io.entrollm.quant.Quantizer;
import io.entrollm.tensor.Tensor;
import io.entrollm.tensor.TensorReader;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32C;

/**
 * Reader of .entro files, memory-mapped. Opening verifies everything before any weight is used:
 * magic, version, header and section-table CRC32C, every section's CRC32C, alignment, zero padding
 * between sections, and the directory against the section table (kinds, sizes, indices). A file
 * that opens therefore decodes to the weights that were written; any flipped byte is an error.
 */
public final class EntroFile implements AutoCloseable {
    private final MappedFile file;
    private final List<Section> sections;
    private final EntroDirectory directory;
    private final int version;

    private EntroFile(MappedFile file, List<Section> sections, EntroDirectory directory, int version) {
        this.file = file;
        this.sections = sections;
        this.directory = directory;
        this.version = version;
    }

    public static boolean hasMagic(byte[] head) {
        return head.length >= 8 && Arrays.equals(Arrays.copyOf(head, 8), EntroLayout.MAGIC);
    }

    public static EntroFile open(Path path) throws IOException {
        return MappedFile.openAndParse(path, EntroFile::parse);
    }

    private static EntroFile parse(MappedFile file) {
        Path path = file.path();
        MemorySegment seg = file.segment();
        long size = seg.byteSize();
        if (size < EntroLayout.HEADER_BYTES) throw new FormatException(path, "truncated: " + size + " bytes, shorter than the .entro header");
        byte[] header = seg.asSlice(0, EntroLayout.HEADER_BYTES).toArray(ValueLayout.JAVA_BYTE);
        if (!hasMagic(header)) throw new FormatException(path, "bad magic; not a .entro file");
        int version = seg.get(TensorReader.I32, EntroLayout.OFF_VERSION);
        if (version < EntroLayout.FIRST_VERSION || version > EntroLayout.VERSION) {
            throw new FormatException(path, ".entro format version " + Integer.toUnsignedString(version)
                    + " is not supported by this build (it reads versions " + EntroLayout.FIRST_VERSION + " to " + EntroLayout.VERSION + ")");
        }
        CRC32C headerCrc = new CRC32C();
        headerCrc.update(header, 0, EntroLayout.OFF_HEADER_CRC);
        if ((int) headerCrc.getValue() != seg.get(TensorReader.I32, EntroLayout.OFF_HEADER_CRC)) {
            throw new FormatException(path, "header checksum mismatch: the file is corrupt");
        }
        for (int i = EntroLayout.OFF_TABLE_CRC + 4; i < EntroLayout.OFF_HEADER_CRC; i++) {
            if (header[i] != 0) throw new FormatException(path, "reserved header byte " + i + " is not zero");
        }
        long fileBytes = seg.get(TensorReader.I64, EntroLayout.OFF_FILE_BYTES);
        if (fileBytes != size) {
            throw new FormatException(path, "truncated or extended: header says " + fileBytes + " bytes, file has " + size);
        }
        if (seg.get(TensorReader.I32, EntroLayout.OFF_HEADER_BYTES) != EntroLayout.HEADER_BYTES
                || seg.get(TensorReader.I32, EntroLayout.OFF_ALIGNMENT) != EntroLayout.ALIGNMENT) {
            throw new FormatException(path, "unexpected header size or alignment");
        }
        long tableOffset = seg.get(TensorReader.I64, EntroLayout.OFF_TABLE_OFFSET);
        long count = seg.get(TensorReader.I32, EntroLayout.OFF_SECTION_COUNT) & 0xFFFFFFFFL;
        long tableBytes = count * EntroLayout.SECTION_ENTRY_BYTES;
        if (tableOffset < EntroLayout.HEADER_BYTES || tableOffset % EntroLayout.ALIGNMENT != 0 || tableOffset + tableBytes != size) {
            throw new FormatException(path, "section table [" + tableOffset + ", +" + tableBytes + ") does not end the file");
        }
        MemorySegment table = seg.asSlice(tableOffset, tableBytes);
        CRC32C tableCrc = new CRC32C();
        tableCrc.update(table.asByteBuffer());
        if ((int) tableCrc.getValue() != seg.get(TensorReader.I32, EntroLayout.OFF_TABLE_CRC)) {
            throw new FormatException(path, "section table checksum mismatch: the file is corrupt");
        }
        List<Section> sections = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            long base = (long) i * EntroLayout.SECTION_ENTRY_BYTES;
            int kindId = table.get(TensorReader.I32, base);
            SectionKind kind = SectionKind.fromId(kindId).orElseThrow(() ->
                    new FormatException(path, "section with unknown kind " + kindId));
            Section s = new Section(kind, table.get(TensorReader.I32, base + 4), table.get(TensorReader.I64, base + 8),
                    table.get(TensorReader.I64, base + 16), table.get(TensorReader.I32, base + 24));
            if (table.get(TensorReader.I32, base + 28) != 0) throw new FormatException(path, "section " + i + " has non-zero reserved bits");
            if (kind.sinceVersion() > version) throw new FormatException(path, kind + " section " + i + " needs format version " + kind.sinceVersion() + ", the file is version " + version);
            sections.add(s);
        }
        checkSectionPlacement(path, seg, sections, tableOffset);
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            CRC32C crc = new CRC32C();
            MemorySegment bytes = seg.asSlice(s.offset(), s.length());
            crc.update(bytes.asByteBuffer());
            // verified: let the pages go (they stay in the page cache) so that opening a model does not make the whole
            // file resident; each section faults back in when it is used (then, once decoded, is let go again)
            io.entrollm.io.PageRelease.release(bytes);
            if ((int) crc.getValue() != s.crc32c()) {
                throw new FormatException(path, s.kind() + " section " + i + describeTensor(s) + ": checksum mismatch, the file is corrupt");
            }
        }
        List<Section> dirs = sections.stream().filter(s -> s.kind() == SectionKind.DIRECTORY).toList();
        if (dirs.size() != 1) throw new FormatException(path, "expected one DIRECTORY section, found " + dirs.size());
        long tokenizers = sections.stream().filter(s -> s.kind() == SectionKind.TOKENIZER).count();
        if (tokenizers > 1) throw new FormatException(path, "expected at most one TOKENIZER section, found " + tokenizers);
        for (int i = 0; i < sections.size(); i++) {
            Section s = sections.get(i);
            boolean modelLevel = s.kind().modelLevel();
            if (modelLevel != (s.tensor() == EntroLayout.NO_TENSOR)) {
                throw new FormatException(path, s.kind() + " section " + i + " names tensor #" + s.tensor()
                        + (modelLevel ? ", but belongs to the model" : ", but must belong to a tensor"));
            }
        }
        EntroDirectory directory;
        try {
            directory = EntroDirectory.parse(seg.asSlice(dirs.get(0).offset(), dirs.get(0).length()).toArray(ValueLayout.JAVA_BYTE), version);
        } catch (IllegalArgumentException e) {
            throw new FormatException(path, e.getMessage());
        }
        EntroFile f = new EntroFile(file, List.copyOf(sections), directory, version);
        f.checkDirectory();
        f.checkCodedStructure();
        return f;
    }

    private static String describeTensor(Section s) { return s.tensor() == EntroLayout.NO_TENSOR ? "" : " (tensor #" + s.tensor() + ")"; }

    /** Sections are aligned, inside [header, table), do not overlap, and the gaps between them are zero. */
    private static void checkSectionPlacement(Path path, MemorySegment seg, List<Section> sections, long tableOffset) {
        List<Section> sorted = new ArrayList<>(sections);
        sorted.sort(Comparator.comparingLong(Section::offset));
        long cursor = EntroLayout.HEADER_BYTES;
        for (Section s : sorted) {
            if (s.offset() % EntroLayout.ALIGNMENT != 0 || s.offset() < cursor || s.length() < 0
                    || s.offset() + s.length() > tableOffset || s.offset() + s.length() < s.offset()) {
                throw new FormatException(path, s.kind() + " section at " + s.offset() + " (+" + s.length()
                        + " bytes) is misaligned, overlapping or outside the file");
            }
            checkZeros(path, seg, cursor, s.offset());
            cursor = s.offset() + s.length();
        }
        checkZeros(path, seg, cursor, tableOffset);
    }

    private static void checkZeros(Path path, MemorySegment seg, long from, long to) {
        for (long p = from; p < to; p++) {
            if (seg.get(ValueLayout.JAVA_BYTE, p) != 0) throw new FormatException(path, "padding byte at " + p + " is not zero: the file is corrupt");
        }
    }

    private void checkDirectory() {
        Path path = file.path();
        Set<String> names = new HashSet<>();
        boolean[] referenced = new boolean[sections.size()]; // each section may be used once, by its own entry
        for (int i = 0; i < directory.entries().size(); i++) {
            EntroEntry e = directory.entries().get(i);
            if (!names.add(e.name())) throw FormatException.forTensor(path, e.name(), "appears twice in the directory");
            try {
                switch (e) {
                    case EntroEntry.Raw r -> expect(referenced, r.rawSection(), SectionKind.RAW, i, r.sourceDtype().byteSize(r.elementCount()));
                    case EntroEntry.Packed p -> {
                        expect(referenced, p.paramsSection(), SectionKind.PARAMS, i, p.paramsBytes());
                        expect(referenced, p.packedSection(), SectionKind.PACKED, i, io.entrollm.codec.SymbolPacking.packedBytes(p.elementCount(), p.bits()));
                    }
                    case EntroEntry.Coded c -> {
                        expect(referenced, c.paramsSection(), SectionKind.PARAMS, i, c.paramsBytes());
                        expectHuffman(referenced, c, i);
                    }
                    case EntroEntry.GgmlCoded g -> {
                        expect(referenced, g.sideSection(), SectionKind.SIDE, i,
                                Math.multiplyExact(g.blocks(), (long) io.entrollm.tensor.GgmlSymbols.sideBytes(g.sourceDtype())));
                        expectHuffman(referenced, g, i);
                    }
                }
            } catch (IllegalArgumentException | ArithmeticException ex) {
                throw FormatException.forTensor(path, e.name(), ex.getMessage());
            }
        }
        directory.companions().forEach((name, section) -> {
            try {
                expect(referenced, section, SectionKind.COMPANION, EntroLayout.NO_TENSOR, sections.get(section).length());
                io.entrollm.format.StrictJson.read(sectionBytes(section).toArray(ValueLayout.JAVA_BYTE), name);
            } catch (IllegalArgumentException | IndexOutOfBoundsException ex) {
                throw new FormatException(path, "companion file " + name + ": " + ex.getMessage());
            }
        });
        EntroDirectory.GgufOrigin gguf = directory.gguf();
        if (gguf != null) {
            try {
                expect(referenced, gguf.headerSection(), SectionKind.GGUF_HEADER, EntroLayout.NO_TENSOR, sections.get(gguf.headerSection()).length());
            } catch (IllegalArgumentException | IndexOutOfBoundsException ex) {
                throw new FormatException(path, "gguf header: " + ex.getMessage());
            }
        }
        for (int i = 0; i < sections.size(); i++) {
            SectionKind k = sections.get(i).kind();
            if (!referenced[i] && k != SectionKind.DIRECTORY && k != SectionKind.TOKENIZER) {
                throw new FormatException(path, k + " section " + i + describeTensor(sections.get(i)) + " is not used by any tensor of the directory");
            }
        }
    }

    /**
     * What docs/FORMAT.md asks of a reader beyond the checksums, for every coded tensor: a valid
     * codebook (lengths 0..16, a complete prefix code or one 1-bit code, as long as the directory says,
     * codes for a non-empty tensor), a bit count every symbol can account for (1..max_code_length bits
     * each), and a chunk index that starts at bit 0 and never decreases or passes the stream's end.
     * Decoders then only have to check what decoding finds.
     */
    private void checkCodedStructure() {
        for (EntroEntry e : directory.entries()) {
            if (e instanceof EntroEntry.Quantized q) checkParams(q);
            if (!(e instanceof EntroEntry.HuffmanCoded c)) continue;
            checkBitstreamPadding(c);
            HuffmanCodebook book = codebook(c);
            long n = c.elementCount();
            if (n > 0 && book.maxLength() == 0) throw FormatException.forTensor(path(), c.name(), "invalid codebook: no codes for " + n + " symbols");
            if (n > 0 && (c.totalBits() < n || c.totalBits() > n * book.maxLength())) {
                throw FormatException.forTensor(path(), c.name(), "bitstream of " + c.totalBits() + " bits cannot hold " + n
                        + " codes of 1.." + book.maxLength() + " bits");
            }
            MemorySegment index = sectionBytes(c.chunkIndexSection());
            long previous = 0;
            for (int k = 0; k < c.chunks(); k++) {
                long start = index.getAtIndex(TensorReader.I64, k);
                if ((k == 0 && start != 0) || start < previous || start > c.totalBits()) {
                    throw FormatException.forTensor(path(), c.name(), "chunk index entry " + k + " is bit " + start
                            + (k == 0 ? ", not 0" : start < previous ? ", before chunk " + (k - 1) + " at " + previous : ", past the stream's "
                            + c.totalBits() + " bits"));
                }
                previous = start;
            }
        }
    }

    /** Scales are finite and not negative, zeros finite: a NaN scale would decode to NaN weights without a word. */
    private void checkParams(EntroEntry.Quantized q) {
        MemorySegment params = sectionBytes(q.paramsSection());
        long groups = q.groups();
        boolean half = q.paramsDtype() == io.entrollm.tensor.DType.F16;
        for (long g = 0; g < params.byteSize() / (half ? 2 : 4); g++) {
            float v = half ? Float.float16ToFloat(params.getAtIndex(TensorReader.I16, g)) : params.getAtIndex(TensorReader.F32, g);
            boolean scale = g < groups;
            if (!Float.isFinite(v) || (scale && v < 0)) {
                throw FormatException.forTensor(path(), q.name(), (scale ? "scale of group " + g : "zero point of group " + (g - groups))
                        + " is " + v + (scale ? " (scales must be finite and not negative)" : " (must be finite)"));
            }
        }
    }

    /** The bits after the last code, and the whole padding word, are zero (docs/FORMAT.md): a stream has one encoding. */
    private void checkBitstreamPadding(EntroEntry.HuffmanCoded c) {
        MemorySegment words = sectionBytes(c.bitstreamSection());
        long count = words.byteSize() / 4;
        if (words.getAtIndex(TensorReader.I32, count - 1) != 0) {
            throw FormatException.forTensor(path(), c.name(), "the bitstream's padding word is not zero");
        }
        int used = (int) (c.totalBits() & 31);
        if (used != 0 && (words.getAtIndex(TensorReader.I32, count - 2) << used) != 0) {
            throw FormatException.forTensor(path(), c.name(), "bits after the last code are not zero");
        }
    }

    private void expectHuffman(boolean[] referenced, EntroEntry.HuffmanCoded c, int i) {
        expect(referenced, c.codebookSection(), SectionKind.CODEBOOK, i, 1L << c.bits());
        expect(referenced, c.chunkIndexSection(), SectionKind.CHUNK_INDEX, i, (long) c.chunks() * 8);
        expect(referenced, c.bitstreamSection(), SectionKind.BITSTREAM, i, (long) HuffmanStream.wordCount(c.totalBits()) * 4);
    }


    private void expect(boolean[] referenced, int sectionIndex, SectionKind kind, int tensor, long bytes) {
        if (sectionIndex < 0 || sectionIndex >= sections.size()) throw new IllegalArgumentException("section index " + sectionIndex + " out of range");
        Section s = sections.get(sectionIndex);
        if (referenced[sectionIndex]) throw new IllegalArgumentException("section " + sectionIndex + " is used twice");
        referenced[sectionIndex] = true;
        if (s.kind() != kind || s.tensor() != tensor) {
            throw new IllegalArgumentException("section " + sectionIndex + " is " + s.kind() + " of tensor #" + s.tensor()
                    + ", expected " + kind + " of tensor #" + tensor);
        }
        if (s.length() != bytes) throw new IllegalArgumentException(kind + " section holds " + s.length() + " bytes, expected " + bytes);
    }

    // ---------------------------------------------------------------- access

    public Path path() { return file.path(); }

    public long fileBytes() { return file.size(); }

    public EntroDirectory directory() { return directory; }

    /** The format version in the header (1 or 2). */
    public int version() { return version; }

    public List<EntroEntry> entries() { return directory.entries(); }

    public List<Section> sections() { return sections; }

    /** The bytes of a section, a slice of the mapping (copy it to a GPU as is). */
    public MemorySegment sectionBytes(int index) {
        Section s = sections.get(index);
        return file.segment().asSlice(s.offset(), s.length());
    }

    /** Companion file {@code name} (tokenizer_config.json, ...) as the source had it, if the file carries it. */
    public Optional<String> companionJson(String name) {
        return Optional.ofNullable(directory.companions().get(name))
                .map(i -> new String(sectionBytes(i).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
    }

    public Optional<String> tokenizerJson() {
        return sections.stream().filter(s -> s.kind() == SectionKind.TOKENIZER).findFirst()
                .map(s -> new String(file.segment().asSlice(s.offset(), s.length()).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8));
    }

    /** An unquantized tensor, a slice of the mapping. */
    public Tensor rawTensor(EntroEntry.Raw r) {
        return new Tensor(r.name(), r.sourceDtype(), r.shape(), sectionBytes(r.rawSection()));
    }

    public HuffmanCodebook codebook(EntroEntry.HuffmanCoded c) {
        MemorySegment cb = sectionBytes(c.codebookSection());
        int[] lengths = new int[(int) cb.byteSize()];
        for (int s = 0; s < lengths.length; s++) lengths[s] = cb.get(ValueLayout.JAVA_BYTE, s) & 0xFF;
        try {
            HuffmanCodebook book = HuffmanCodebook.fromLengths(lengths);
            if (book.maxLength() != c.maxCodeLength()) throw new IllegalArgumentException("longest code is " + book.maxLength()
                    + " bits, directory says " + c.maxCodeLength());
            return book;
        } catch (IllegalArgumentException e) {
            throw FormatException.forTensor(path(), c.name(), "invalid codebook: " + e.getMessage());
        }
    }

    /** Tensor {@code e} in its stored form: slices of the mapping, valid while this file is open. */
    public StoredTensor stored(EntroEntry e) {
        return switch (e) {
            case EntroEntry.Raw r -> StoredTensor.of(rawTensor(r));
            case EntroEntry.Coded c -> new StoredTensor.Coded(path(), c.name(), c.shape(), c.sourceDtype(), c.bits(), c.scheme(), c.granularity(),
                    c.groupSize(), c.sign(), sectionBytes(c.paramsSection()), c.paramsDtype(), codebook(c), c.chunkSymbols(), c.totalBits(),
                    sectionBytes(c.chunkIndexSection()), sectionBytes(c.bitstreamSection()));
            case EntroEntry.Packed p -> new StoredTensor.Packed(path(), p.name(), p.shape(), p.sourceDtype(), p.bits(), p.scheme(), p.granularity(),
                    p.groupSize(), p.sign(), sectionBytes(p.paramsSection()), p.paramsDtype(), sectionBytes(p.packedSection()));
            case EntroEntry.GgmlCoded g -> StoredTensor.of(ggmlBlocks(g, Arena.ofAuto()));
        };
    }

    /**
     * A GGML-coded tensor's blocks, byte for byte as in the file it was compressed from: symbols decoded (all
     * cores) and joined with the side bytes into memory from {@code arena}.
     */
    public Tensor ggmlBlocks(EntroEntry.GgmlCoded g, Arena arena) {
        int n = Math.toIntExact(g.elementCount());
        byte[] symbols = new byte[n];
        MemorySegment bits = sectionBytes(g.bitstreamSection());
        HuffmanStream stream = new HuffmanStream(codebook(g), n, g.chunkSymbols(), sectionBytes(g.chunkIndexSection()).toArray(TensorReader.I64),
                bits.toArray(TensorReader.I32), g.totalBits());
        StoredTensor.Coded.decodeChecked(stream, symbols, g.bits(), path(), g.name());
        MemorySegment blocks = arena.allocate(g.sourceDtype().byteSize(n), 64);
        io.entrollm.tensor.GgmlSymbols.join(g.sourceDtype(), symbols, sectionBytes(g.sideSection()).toArray(ValueLayout.JAVA_BYTE), g.blocks(), blocks);
        return new Tensor(g.name(), g.sourceDtype(), g.shape(), blocks);
    }



    /** The entry named {@code name}. */
    public Optional<EntroEntry> entry(String name) { return entries().stream().filter(e -> e.name().equals(name)).findFirst(); }

    @Override
    public void close() { file.close(); }
}
