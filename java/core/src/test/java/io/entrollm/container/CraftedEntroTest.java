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
import io.entrollm.container.EntroBytes.Part;
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

    private static int crc(byte[] b, long from, long length) { return EntroBytes.crc(b, from, length); }

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

    // ---------------------------------------------------------------- whole-file rebuilds (sections added, resized)

    /** The original file's sections, in file order, as parts. */
    static List<Part> parts() { return EntroBytes.parts(original); }

    /** Lays {@code parts} out as a valid container of the original's version. */
    static byte[] rebuild(List<Part> parts) { return EntroBytes.rebuild(parts, EntroBytes.version(original)); }

    /** The file with its directory JSON edited (then laid out again). */
    static byte[] withDirectory(Consumer<com.fasterxml.jackson.databind.node.ObjectNode> edit) throws IOException {
        return EntroBytes.withDirectory(original, edit);
    }

    @Test
    void versionTwoSectionsInAVersionOneFileAreRejected() throws IOException {
        assertThat(EntroBytes.version(original)).as("sotu-tiny's tokenizer_config.json makes it version 2").isEqualTo(2);
        assertThat(openFails(EntroBytes.rebuild(parts(), 1))).contains("COMPANION section").contains("needs format version 2, the file is version 1");
    }

    @Test
    void companionFilesHaveKnownNamesAndHoldJson() throws IOException {
        assertThat(openFails(withDirectory(root -> {
            var c = (com.fasterxml.jackson.databind.node.ObjectNode) root.get("companions");
            c.set("../../evil.json", c.remove("tokenizer_config.json"));
        }))).contains("companion file '../../evil.json' is not one of");
        List<Part> parts = parts();
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).kind() == SectionKind.COMPANION) parts.set(i, new Part(SectionKind.COMPANION, EntroLayout.NO_TENSOR, "{\"a\": 1} trailing".getBytes()));
        }
        assertThat(openFails(rebuild(parts))).contains("companion file");
    }

    /** The first quantized entry of the directory (the one with the most fields to get wrong). */
    static com.fasterxml.jackson.databind.node.ObjectNode firstCoded(com.fasterxml.jackson.databind.node.ObjectNode root) {
        for (var t : root.withArray("tensors")) if (t.path("encoding").asText().equals("huffman")) return (com.fasterxml.jackson.databind.node.ObjectNode) t;
        throw new AssertionError("no coded tensor");
    }

    @Test
    void theRebuiltUneditedFileOpens() throws IOException {
        assertThat(parts().getLast().kind()).as("the writer puts the directory last").isEqualTo(SectionKind.DIRECTORY);
        Path p = Files.write(shared.resolve("rebuilt.entro"), rebuild(parts()));
        EntroFile.open(p).close();
    }

    @Test
    void aSecondTokenizerSectionIsRejected() throws IOException {
        List<Part> parts = parts();
        Part tok = parts.stream().filter(x -> x.kind() == SectionKind.TOKENIZER).findFirst().orElseThrow();
        parts.add(parts.size() - 1, tok);
        assertThat(openFails(rebuild(parts))).contains("at most one TOKENIZER section, found 2");
    }

    @Test
    void aSectionNoTensorUsesIsRejected() throws IOException {
        List<Part> parts = parts();
        // before the directory, the last section: the indices the directory refers to stay as they were
        parts.add(parts.size() - 1, new Part(SectionKind.RAW, 0, new byte[64]));
        assertThat(openFails(rebuild(parts))).contains("is not used by any tensor");
    }

    @Test
    void aDirectoryOfAnotherVersionIsRejected() throws IOException {
        assertThat(openFails(withDirectory(root -> root.put("version", 1)))).contains("directory version 1 does not match the header's version 2");
    }

    @Test
    void aGroupSizeThatDisagreesWithTheGranularityIsRejected() throws IOException {
        assertThat(openFails(withDirectory(root -> firstCoded(root).put("granularity", "group:7"))))
                .contains("disagrees with granularity group:7");
    }

    @Test
    void aShapeOfTwoToTheFortyElementsIsRejectedBeforeAnyArray() throws IOException {
        String m = openFails(withDirectory(root -> {
            var t = firstCoded(root);
            t.putArray("shape").add(1L << 20).add(1L << 20);
            t.put("chunk_symbols", 1).put("group_size", 1L << 40);
        }));
        assertThat(m).contains("tensor '").contains("1099511627776 elements: more than");
    }

    @Test
    void trailingJsonInTheDirectoryIsRejected() throws IOException {
        List<Part> parts = parts();
        for (int i = 0; i < parts.size(); i++) {
            if (parts.get(i).kind() != SectionKind.DIRECTORY) continue;
            byte[] d = parts.get(i).bytes();
            byte[] twice = java.util.Arrays.copyOf(d, d.length * 2);
            System.arraycopy(d, 0, twice, d.length, d.length);
            parts.set(i, new Part(SectionKind.DIRECTORY, EntroLayout.NO_TENSOR, twice));
        }
        assertThat(openFails(rebuild(parts))).contains("directory is not valid JSON");
    }

    @Test
    void nonFiniteOrNegativeScalesAreRejected() throws IOException {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, -1f}) {
            assertThat(openFails(crafted(SectionKind.PARAMS, params -> params.putFloat(0, bad))))
                    .contains("scale of group 0 is " + bad);
        }
    }

    @Test
    void aNonZeroPaddingWordOrTrailingBitsAreRejected() throws IOException {
        assertThat(openFails(crafted(SectionKind.BITSTREAM, words -> words.putInt(words.limit() - 4, 1))))
                .contains("padding word is not zero");
    }
}
