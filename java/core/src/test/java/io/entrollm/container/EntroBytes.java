package io.entrollm.container;

import io.entrollm.container.EntroLayout.SectionKind;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * Crafting .entro files for tests, as anyone can: a file's sections taken apart, edited, and laid out again
 * with every offset, size and checksum right (docs/FORMAT.md), so what is tested is the reader's content
 * rules rather than its checksums.
 */
final class EntroBytes {
    private EntroBytes() {}

    /** A section's kind, tensor and bytes, to lay out again. */
    record Part(SectionKind kind, int tensor, byte[] bytes) {}

    static int version(byte[] file) { return ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN).getInt(EntroLayout.OFF_VERSION); }

    /** The sections of a valid file, in table order. */
    static List<Part> parts(byte[] file) {
        ByteBuffer all = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long table = all.getLong(EntroLayout.OFF_TABLE_OFFSET);
        int count = all.getInt(EntroLayout.OFF_SECTION_COUNT);
        List<Part> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            int at = (int) table + i * EntroLayout.SECTION_ENTRY_BYTES;
            int offset = (int) all.getLong(at + 8), length = (int) all.getLong(at + 16);
            out.add(new Part(SectionKind.fromId(all.getInt(at)).orElseThrow(), all.getInt(at + 4), Arrays.copyOfRange(file, offset, offset + length)));
        }
        return out;
    }

    /** Lays {@code parts} out as a container of {@code version}: aligned sections, table, every size and checksum right. */
    static byte[] rebuild(List<Part> parts, int version) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(new byte[EntroLayout.HEADER_BYTES]);
        ByteBuffer table = ByteBuffer.allocate(parts.size() * EntroLayout.SECTION_ENTRY_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        for (Part p : parts) {
            long offset = b.size();
            b.writeBytes(p.bytes());
            while (b.size() % EntroLayout.ALIGNMENT != 0) b.write(0);
            table.putInt(p.kind().id()).putInt(p.tensor()).putLong(offset).putLong(p.bytes().length)
                    .putInt(crc(p.bytes(), 0, p.bytes().length)).putInt(0);
        }
        long tableOffset = b.size();
        b.writeBytes(table.array());
        byte[] f = b.toByteArray();
        ByteBuffer all = ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN);
        all.put(0, EntroLayout.MAGIC);
        all.putInt(EntroLayout.OFF_VERSION, version).putInt(EntroLayout.OFF_HEADER_BYTES, EntroLayout.HEADER_BYTES)
                .putLong(EntroLayout.OFF_FILE_BYTES, f.length).putLong(EntroLayout.OFF_TABLE_OFFSET, tableOffset)
                .putInt(EntroLayout.OFF_SECTION_COUNT, parts.size()).putInt(EntroLayout.OFF_ALIGNMENT, EntroLayout.ALIGNMENT)
                .putInt(EntroLayout.OFF_TABLE_CRC, crc(f, tableOffset, table.capacity()));
        all.putInt(EntroLayout.OFF_HEADER_CRC, crc(f, 0, EntroLayout.OFF_HEADER_CRC));
        return f;
    }

    /** {@code file} with its directory JSON edited, laid out again at the same version. */
    static byte[] withDirectory(byte[] file, Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) throws IOException {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<Part> parts = parts(file);
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).kind() != SectionKind.DIRECTORY) continue;
            var root = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(parts.get(i).bytes());
            edit.accept(root);
            parts.set(i, new Part(SectionKind.DIRECTORY, EntroLayout.NO_TENSOR, json.writeValueAsBytes(root)));
        }
        return rebuild(parts, version(file));
    }

    static int crc(byte[] b, long from, long length) {
        CRC32C c = new CRC32C();
        c.update(b, (int) from, (int) length);
        return (int) c.getValue();
    }
}
