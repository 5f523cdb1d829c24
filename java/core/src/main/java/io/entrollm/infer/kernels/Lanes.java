package io.entrollm.infer.kernels;

import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * The vector shapes every kernel uses: float lanes of the machine's preferred width, and byte, short
 * and int species with the same lane count, so that one load of symbols converts into one float vector.
 * Where floats have fewer than 8 lanes (128-bit SIMD) no byte species matches and the kernels use
 * their scalar loops.
 */
final class Lanes {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final int L = F.length();
    static final boolean VECTOR = L >= 8;
    static final VectorSpecies<Byte> B = VECTOR ? ByteVector.SPECIES_64.withShape(VectorShape.forBitSize(L * 8)) : null;
    static final VectorSpecies<Integer> I = VECTOR ? IntVector.SPECIES_256.withShape(VectorShape.forBitSize(L * 32)) : null;
    /** Tokens one pass over a weight row serves (each weight vector is loaded and converted once for them). */
    static final int TILE = 4;

    private Lanes() {}
}
