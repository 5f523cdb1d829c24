package io.entrollm.gpu;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Regression (found by the CUDA simulator): the JavaCPP pointer handed to cuBLAS must carry the JCuda
 * device address. It used to assign JavaCPP's own field to itself, so every matrix pointer was 0.
 * Needs no GPU: only JavaCPP's Pointer class.
 */
class BytedecoPointerTest {
    @Test
    void rawPointerCarriesTheDeviceAddress() {
        assertEquals(0x7f12_3456_7800L, BytedecoBlas.raw(0x7f12_3456_7800L).address());
        assertEquals(1L << 40, BytedecoBlas.raw(1L << 40).address());
    }
}
