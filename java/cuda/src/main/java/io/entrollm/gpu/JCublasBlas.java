package io.entrollm.gpu;

import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;

/** cuBLAS through JCublas (CUDA 12 hosts). */
final class JCublasBlas implements Blas {
    private final cublasHandle handle = new cublasHandle();
    private boolean closed;

    JCublasBlas() {
        JCublas2.setExceptionsEnabled(false);
        check(JCublas2.cublasCreate(handle), "cublasCreate");
    }

    private static void check(int status, String call) {
        if (status != 0) throw new CudaException(call + " failed with cuBLAS status " + status);
    }

    @Override public String binding() { return "cuBLAS via JCublas (libcublas.so.12)"; }

    @Override
    public void setStream(CudaStream stream) {
        check(JCublas2.cublasSetStream(handle, new jcuda.runtime.cudaStream_t(stream.handle())), "cublasSetStream");
    }

    @Override
    public void gemmEx(int transA, int transB, int m, int n, int k, float alpha, DeviceSlice a, int aType, int lda,
                       DeviceSlice b, int bType, int ldb, float beta, DeviceSlice c, int cType, int ldc) {
        // cublasGemmEx_new takes a cublasComputeType_t (COMPUTE_32F); JCublas2.cublasGemmEx takes the legacy
        // cudaDataType and answers NOT_SUPPORTED (15) in Java for 68, before any native call.
        check(JCublas2.cublasGemmEx_new(handle, transA, transB, m, n, k, Pointer.to(new float[] {alpha}), a.pointer(), aType, lda,
                b.pointer(), bType, ldb, Pointer.to(new float[] {beta}), c.pointer(), cType, ldc, COMPUTE_32F, GEMM_DEFAULT), "cublasGemmEx");
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        JCublas2.cublasDestroy(handle);
    }
}
