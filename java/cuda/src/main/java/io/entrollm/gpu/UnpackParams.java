package io.entrollm.gpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Host image of {@code entro::UnpackParams} (cuda-kernels/entro_format.cuh; static_assert 56 bytes). */
record UnpackParams(long packed, long scales, long zeros, long nSymbols, long groupSize, int bits, int scheme, int sign) {
    static final int BYTES = 56;

    byte[] toBytes() {
        ByteBuffer b = ByteBuffer.allocate(BYTES).order(ByteOrder.nativeOrder());
        b.putLong(0, packed).putLong(8, scales).putLong(16, zeros).putLong(24, nSymbols).putLong(32, groupSize)
                .putInt(40, bits).putInt(44, scheme).putInt(48, sign).putInt(52, 0);
        return b.array();
    }
}
