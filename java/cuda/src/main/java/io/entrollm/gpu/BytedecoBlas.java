package io.entrollm.gpu;

import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

/** cuBLAS through bytedeco's JavaCPP preset (CUDA 13). */
final class BytedecoBlas implements Blas {
    private final cublasContext handle = new cublasContext();
    /** alpha and beta, reused (each at position 0): cuBLAS reads host scalars during the call (pointer mode host). */
    private final FloatPointer alphaScalar = new FloatPointer(1), betaScalar = new FloatPointer(1);
    private boolean closed;

    BytedecoBlas() { check(cublas.cublasCreate_v2(handle), "cublasCreate"); }

    /**
     * A JavaCPP pointer to a raw device address owned elsewhere (JCuda). The parameter must not be
     * called {@code address}: inside the anonymous subclass that name is JavaCPP's inherited field,
     * and {@code address = address} would hand cuBLAS a null pointer (found by the CUDA simulator).
     */
    static Pointer raw(long deviceAddress) {
        return new Pointer() {
            { address = deviceAddress; }
        };
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " failed with cuBLAS status " + status);
    }

    @Override public String binding() { return "cuBLAS via bytedeco JavaCPP (libcublas.so.13)"; }

    @Override
    public void setStream(CudaStream stream) {
        check(cublas.cublasSetStream_v2(handle, new CUstream_st(raw(stream.address()))), "cublasSetStream");
    }

    @Override
    public void gemmEx(int transA, int transB, int m, int n, int k, float alpha, DeviceSlice a, int aType, int lda,
                       DeviceSlice b, int bType, int ldb, float beta, DeviceSlice c, int cType, int ldc) {
        alphaScalar.put(0, alpha);
        betaScalar.put(0, beta);
        check(cublas.cublasGemmEx(handle, transA, transB, m, n, k, alphaScalar, raw(a.address()), aType, lda, raw(b.address()), bType,
                ldb, betaScalar, raw(c.address()), cType, ldc, COMPUTE_32F, GEMM_DEFAULT), "cublasGemmEx");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        cublas.cublasDestroy_v2(handle);
        alphaScalar.close();
        betaScalar.close();
    }
}
