package io.entrollm.fuzz;

import io.entrollm.container.EntroLayout;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.zip.CRC32C;

/**
 * Recomputes the checksums of a mutated .entro file (header length field, every section CRC the table
 * can reach, the table CRC, the header CRC), so that a fuzzed file gets past the checksums to the
 * structural and semantic checks behind them; a crafted file with correct checksums is exactly what
 * a hostile writer produces. Bytes that cannot be a table (offsets past the end) are left alone.
 */
final class EntroReseal {
    private EntroReseal() {}

    static byte[] reseal(byte[] in) {
        byte[] b = in.clone();
        if (b.length < EntroLayout.HEADER_BYTES) return b;
        ByteBuffer all = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        all.putLong(EntroLayout.OFF_FILE_BYTES, b.length);
        long table = all.getLong(EntroLayout.OFF_TABLE_OFFSET);
        long count = Integer.toUnsignedLong(all.getInt(EntroLayout.OFF_SECTION_COUNT));
        long tableBytes = count * EntroLayout.SECTION_ENTRY_BYTES;
        if (table >= EntroLayout.HEADER_BYTES && table <= b.length && tableBytes <= b.length - table) {
            for (int i = 0; i < count; i++) {
                int entry = (int) table + i * EntroLayout.SECTION_ENTRY_BYTES;
                long offset = all.getLong(entry + 8), length = all.getLong(entry + 16);
                if (offset >= 0 && length >= 0 && offset <= b.length && length <= b.length - offset) {
                    all.putInt(entry + 24, crc(b, offset, length));
                }
            }
            all.putInt(EntroLayout.OFF_TABLE_CRC, crc(b, table, tableBytes));
        }
        all.putInt(EntroLayout.OFF_HEADER_CRC, crc(b, 0, EntroLayout.OFF_HEADER_CRC));
        return b;
    }

    private static int crc(byte[] b, long from, long length) {
        CRC32C c = new CRC32C();
        c.update(b, (int) from, (int) length);
        return (int) c.getValue();
    }
}
