package io.entrollm.container;

import io.entrollm.container.EntroLayout.Section;
import io.entrollm.container.EntroLayout.SectionKind;
import io.entrollm.format.FormatException;
import io.entrollm.model.ModelSource;
import io.entrollm.model.ModelSources;
import io.entrollm.quant.Granularity;
import io.entrollm.quant.QuantScheme;
import io.entrollm.testing.TestModels;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Crafted .entro files: a section edited and every checksum recomputed, so only the structural checks
 * of docs/FORMAT.md stand between the edit and the decoder (they used to pass `inspect` as OK).
 */
class CraftedEntroTest {
    @TempDir static Path shared;
    static Path u4;
    static byte[] original;
    static List<Section> sections;

    @BeforeAll
    static void compressOnce() throws IOException {
        u4 = shared.resolve("sotu-u4.entro");
        try (ModelSource src = ModelSources.openHuggingFace(TestModels.sotuTiny())) {
            EntroCompressor.compress(src, u4, CompressOptions.defaults(4, QuantScheme.ASYM, Granularity.TENSOR), null);
        }
        original = Files.readAllBytes(u4);
        try (EntroFile f = EntroFile.open(u4)) {
            sections = f.sections();
        }
    }

    /** The file with the first section of {@code kind} edited in place and every CRC recomputed. */
    static byte[] crafted(SectionKind kind, Consumer<ByteBuffer> edit) {
        byte[] b = original.clone();
        ByteBuffer all = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        int index = 0;
        while (sections.get(index).kind() != kind) index++;
        Section s = sections.get(index);
        edit.accept(all.slice((int) s.offset(), (int) s.length()).order(ByteOrder.LITTLE_ENDIAN));
        long table = all.getLong(EntroLayout.OFF_TABLE_OFFSET);
        int count = all.getInt(EntroLayout.OFF_SECTION_COUNT);
        all.putInt((int) table + index * EntroLayout.SECTION_ENTRY_BYTES + 24, crc(b, s.offset(), s.length()));
        all.putInt(EntroLayout.OFF_TABLE_CRC, crc(b, table, (long) count * EntroLayout.SECTION_ENTRY_BYTES));
        all.putInt(EntroLayout.OFF_HEADER_CRC, crc(b, 0, EntroLayout.OFF_HEADER_CRC));
        return b;
    }

    private static int crc(byte[] b, long from, long length) {
        CRC32C c = new CRC32C();
        c.update(b, (int) from, (int) length);
        return (int) c.getValue();
    }

    private String openFails(byte[] file) throws IOException {
        Path p = Files.write(shared.resolve("crafted-" + System.nanoTime() + ".entro"), file);
        FormatException e = assertThrows(FormatException.class, () -> EntroFile.open(p).close());
        assertThat(e.getMessage()).startsWith(p.toString());
        return e.getMessage();
    }

    @Test
    void theUneditedCopyOpens() throws IOException {
        Path p = Files.write(shared.resolve("copy.entro"), crafted(SectionKind.CODEBOOK, cb -> {}));
        EntroFile.open(p).close();
    }

    @Test
    void codeLengthsBeyond16AreRejected() throws IOException {
        for (int length : new int[] {17, 255}) {
            assertThat(openFails(crafted(SectionKind.CODEBOOK, cb -> cb.put(0, (byte) length))))
                    .contains("invalid codebook").contains("code length " + length + " out of range");
        }
    }

    @Test
    void aZeroedCodebookIsRejected() throws IOException {
        assertThat(openFails(crafted(SectionKind.CODEBOOK, cb -> { for (int i = 0; i < cb.limit(); i++) cb.put(i, (byte) 0); })))
                .contains("invalid codebook");
    }

    @Test
    void chunkOffsetsPastTheBitstreamOrBackwardsAreRejected() throws IOException {
        assertThat(openFails(crafted(SectionKind.CHUNK_INDEX, ix -> ix.putLong(8, 1L << 40)))).contains("chunk index entry 1").contains("past the stream");
        assertThat(openFails(crafted(SectionKind.CHUNK_INDEX, ix -> ix.putLong(0, 5)))).contains("chunk index entry 0 is bit 5, not 0");
        assertThat(openFails(crafted(SectionKind.CHUNK_INDEX, ix -> {
            ix.putLong(16, ix.getLong(8) - 1);
            ix.putLong(8, ix.getLong(8) + 64);
        }))).contains("chunk index entry 2").contains("before chunk 1");
    }
}
