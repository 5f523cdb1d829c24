package io.entrollm.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Host image of {@code entro::DecodeParams} (cuda-kernels/entro_format.cuh), passed to the decode
 * kernels by value. Offsets must match the C++ struct, whose size the header pins with a
 * static_assert (96 bytes).
 */
record DecodeParams(long words, long chunkBits, long table, long scales, long zeros, long totalBits, long nSymbols,
                    long groupSize, int chunkSymbols, int nChunks, int tableBits, int bits, int scheme, int sign, long error) {
    static final int BYTES = 96;

    byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.nativeOrder());
        b.putLong(0, words).putLong(8, chunkBits).putLong(16, table).putLong(24, scales).putLong(32, zeros)
                .putLong(40, totalBits).putLong(48, nSymbols).putLong(56, groupSize)
                .putInt(64, chunkSymbols).putInt(68, nChunks).putInt(72, tableBits).putInt(76, bits)
                .putInt(80, scheme).putInt(84, sign).putLong(88, error);
        return b.array();
    }
}
