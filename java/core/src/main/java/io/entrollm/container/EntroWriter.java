package io.entrollm.container;

import io.entrollm.container.EntroLayout.Section;
import io.entrollm.container.EntroLayout.SectionKind;
import io.entrollm.io.Alignment;
import io.entrollm.io.AtomicFile;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;

/**
 * Streams sections into a new .entro file: each section is written 256-byte aligned as it comes,
 * its CRC32C computed on the way; {@link #finish} appends the section table and writes the header,
 * then renames the file into place. Until then the target path is untouched, and {@link #close}
 * without finish deletes the partial file.
 */
public final class EntroWriter implements AutoCloseable {
    private final AtomicFile file;
    private final FileChannel channel;
    private final List<Section> sections = new ArrayList<>();
    private long position;
    private boolean finished;
    /** The version the directory's content needs ({@link #directory}); f16 scales need 2 with no section of a newer kind. */
    private int directoryVersion = EntroLayout.FIRST_VERSION;

    private EntroWriter(AtomicFile file) throws IOException {
        this.file = file;
        this.channel = file.channel();
        channel.write(ByteBuffer.allocate(EntroLayout.HEADER_BYTES), 0); // placeholder, rewritten by finish()
        position = EntroLayout.HEADER_BYTES;
    }

    public static EntroWriter create(Path out) throws IOException {
        return new EntroWriter(AtomicFile.create(out));
    }

    /** Writes one section and returns its index in the section table. */
    public int section(SectionKind kind, int tensor, MemorySegment bytes) throws IOException {
        position = Alignment.alignUp(position, EntroLayout.ALIGNMENT);
        long offset = position;
        ByteBuffer buf = bytes.asByteBuffer();
        CRC32C crc = new CRC32C();
        crc.update(buf.duplicate());
        while (buf.hasRemaining()) position += channel.write(buf, position);
        sections.add(new Section(kind, tensor, offset, bytes.byteSize(), (int) crc.getValue()));
        return sections.size() - 1;
    }

    public int section(SectionKind kind, int tensor, byte[] bytes) throws IOException {
        return section(kind, tensor, MemorySegment.ofArray(bytes));
    }

    /**
     * Writes the DIRECTORY section. The header's version must equal the directory's, which follows its content (f16
     * scales, GGML-coded tensors, a GGUF origin, companion files): {@link #seal} refuses a file whose sections alone
     * would need another version.
     */
    public int directory(EntroDirectory dir) throws IOException {
        directoryVersion = dir.formatVersion();
        return section(SectionKind.DIRECTORY, EntroLayout.NO_TENSOR, dir.toJsonBytes());
    }

    /** Writes the section table and header, syncs, and renames the file onto its target. */
    public void finish() throws IOException {
        seal();
        commit();
    }

    /** The file's size once {@link #seal()} has written the table. */
    public long sealedBytes() { return sealedBytes; }

    private long sealedBytes = -1;

    /** Renames the sealed file onto its target: the output appears whole. */
    public void commit() throws IOException {
        if (sealedBytes < 0) throw new IllegalStateException("seal() first");
        file.commit();
        finished = true;
    }

    /** Writes the section table and header and syncs; nothing is visible at the target until {@link #commit()}. */
    public void seal() throws IOException {
        long tableOffset = Alignment.alignUp(position, EntroLayout.ALIGNMENT);
        ByteBuffer table = ByteBuffer.allocate(sections.size() * EntroLayout.SECTION_ENTRY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Section s : sections) {
            table.putInt(s.kind().id()).putInt(s.tensor()).putLong(s.offset()).putLong(s.length()).putInt(s.crc32c()).putInt(0);
        }
        table.flip();
        CRC32C tableCrc = new CRC32C();
        tableCrc.update(table.duplicate());
        long fileBytes = tableOffset + table.remaining();
        long p = tableOffset;
        while (table.hasRemaining()) p += channel.write(table, p);
        // zero-fill the padding before the table (the channel leaves holes as zeros, but be explicit)
        if (tableOffset > position) channel.write(ByteBuffer.allocate((int) (tableOffset - position)), position);

        ByteBuffer header = ByteBuffer.allocate(EntroLayout.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.put(EntroLayout.MAGIC);
        header.putInt(EntroLayout.OFF_VERSION, version());
        header.putInt(EntroLayout.OFF_HEADER_BYTES, EntroLayout.HEADER_BYTES);
        header.putLong(EntroLayout.OFF_FILE_BYTES, fileBytes);
        header.putLong(EntroLayout.OFF_TABLE_OFFSET, tableOffset);
        header.putInt(EntroLayout.OFF_SECTION_COUNT, sections.size());
        header.putInt(EntroLayout.OFF_ALIGNMENT, EntroLayout.ALIGNMENT);
        header.putInt(EntroLayout.OFF_TABLE_CRC, (int) tableCrc.getValue());
        CRC32C headerCrc = new CRC32C();
        headerCrc.update(header.array(), 0, EntroLayout.OFF_HEADER_CRC);
        header.putInt(EntroLayout.OFF_HEADER_CRC, (int) headerCrc.getValue());
        header.position(0);
        channel.write(header, 0);
        channel.force(true);
        sealedBytes = fileBytes;
    }

    /**
     * The oldest version that has every kind of section written and the directory's content (files without version-2
     * content stay readable by v1 readers).
     */
    private int version() {
        int sectionsNeed = sections.stream().mapToInt(s -> s.kind().sinceVersion()).max().orElse(EntroLayout.FIRST_VERSION);
        if (sectionsNeed > directoryVersion && sections.stream().anyMatch(s -> s.kind() == SectionKind.DIRECTORY)) {
            throw new IllegalStateException("sections of format version " + sectionsNeed + " under a version " + directoryVersion + " directory");
        }
        return Math.max(sectionsNeed, directoryVersion);
    }

    @Override
    public void close() throws IOException {
        if (!finished) file.close();
    }
}
