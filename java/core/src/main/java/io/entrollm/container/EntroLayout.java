package io.entrollm.container;

import java.util.Optional;

/**
 * The byte layout of the .entro container, shared by {@link EntroWriter} and {@link EntroFile}.
 * docs/FORMAT.md is the spec; the CUDA side mirrors the bitstream conventions in
 * cuda-kernels/entro_format.cuh.
 *
 * <pre>
 * header (256 bytes at offset 0), little-endian:
 *   0  u8[8] magic "ENTROLLM"      8  u32 version            12 u32 header_bytes (256)
 *  16  u64 file_bytes             24  u64 section_table_offset
 *  32  u32 section_count          36  u32 alignment (256)    40 u32 crc32c of the section table
 *  44  zeros ..                  252  u32 crc32c of bytes [0, 252)
 * sections: each at a multiple of 256, zero-padded up to the next one
 * section table: section_count entries of 32 bytes:
 *   u32 kind, u32 tensor (index in the directory, or 0xFFFFFFFF), u64 offset, u64 length, u32 crc32c, u32 zero
 * </pre>
 */
public final class EntroLayout {
    public static final byte[] MAGIC = {'E', 'N', 'T', 'R', 'O', 'L', 'L', 'M'};
    /** The newest version this build reads and writes; it writes the oldest version that holds a file's content. */
    public static final int VERSION = 2;
    public static final int FIRST_VERSION = 1;
    public static final int HEADER_BYTES = 256;
    public static final int ALIGNMENT = 256;
    public static final int SECTION_ENTRY_BYTES = 32;
    public static final int NO_TENSOR = -1;

    public static final int OFF_VERSION = 8, OFF_HEADER_BYTES = 12, OFF_FILE_BYTES = 16, OFF_TABLE_OFFSET = 24,
            OFF_SECTION_COUNT = 32, OFF_ALIGNMENT = 36, OFF_TABLE_CRC = 40, OFF_HEADER_CRC = 252;

    private EntroLayout() {}

    /** Section kinds with their on-disk ids. */
    public enum SectionKind {
        /** UTF-8 JSON: model config, source, settings, and one entry per tensor. */
        DIRECTORY(1),
        /** The Hugging Face tokenizer.json, verbatim. */
        TOKENIZER(2),
        /** An unquantized tensor's bytes in its source dtype. */
        RAW(3),
        /** float32 scales[groups], then for asym float32 zeros[groups]. */
        PARAMS(4),
        /** u8 code length per symbol, 2^bits entries (0 = symbol unused). */
        CODEBOOK(5),
        /** u64 starting bit of each chunk. */
        CHUNK_INDEX(6),
        /** u32 words, bits MSB-first, plus one zero word. */
        BITSTREAM(7),
        /** Packed symbols: one per byte for 5..8 bits, two per byte (low nibble first) for 2..4 bits. */
        PACKED(8),
        /** The bytes of each GGML block that are not quantized values, block after block (version 2). */
        SIDE(9, 2),
        /** The source GGUF file's bytes before its tensor data, deflated (version 2; model-level, at most one). */
        GGUF_HEADER(10, 2),
        /** A file that came with the weights (tokenizer_config.json, ...), verbatim UTF-8 JSON, named by the directory (version 2; model-level). */
        COMPANION(11, 2);

        private final int id;
        private final int sinceVersion;

        SectionKind(int id) { this(id, 1); }

        SectionKind(int id, int sinceVersion) {
            this.id = id;
            this.sinceVersion = sinceVersion;
        }

        public int id() { return id; }

        /** The first format version with this kind of section. */
        public int sinceVersion() { return sinceVersion; }

        /** Sections that belong to the model rather than to one tensor. */
        public boolean modelLevel() { return this == DIRECTORY || this == TOKENIZER || this == GGUF_HEADER || this == COMPANION; }

        public static Optional<SectionKind> fromId(int id) {
            for (SectionKind k : values()) if (k.id == id) return Optional.of(k);
            return Optional.empty();
        }
    }

    /** One entry of the section table. */
    public record Section(SectionKind kind, int tensor, long offset, long length, int crc32c) {}
}
