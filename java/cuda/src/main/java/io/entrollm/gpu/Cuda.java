package io.entrollm.gpu;

import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

/** Status checks for driver API calls, and whether a CUDA device can be used at all. */
public final class Cuda {
    private static volatile String unavailableReason;
    private static volatile boolean probed;

    private Cuda() {}

    /** Throws a {@link CudaException} naming {@code call} unless {@code status} is CUDA_SUCCESS. */
    public static void check(int status, String call) {
        if (status != CUresult.CUDA_SUCCESS) {
            throw new CudaException(call + " failed: " + CUresult.stringFor(status) + " (" + status + ")"
                    + (status == CUresult.CUDA_ERROR_OUT_OF_MEMORY ? "; the GPU is out of memory" : ""));
        }
    }

    /** One line out of JCuda's multi-page load error. */
    static String linkFailure(String message) {
        if (message.contains("libcuda.so")) return "libcuda.so.1 (the NVIDIA driver) is not installed";
        String first = message.lines().findFirst().orElse(message);
        return "JCuda's native library could not be loaded: " + first;
    }

    /** True when the JCuda natives load, the driver initialises and at least one device exists. */
    public static boolean available() { return unavailableReason() == null; }

    /** Why no GPU can be used here, or null when one can. */
    public static synchronized String unavailableReason() {
        if (!probed) {
            probed = true;
            try {
                JCudaDriver.setExceptionsEnabled(false);
                int status = JCudaDriver.cuInit(0);
                if (status != CUresult.CUDA_SUCCESS) {
                    unavailableReason = "cuInit failed: " + CUresult.stringFor(status) + " (no NVIDIA driver or no device)";
                } else {
                    int[] count = new int[1];
                    check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
                    if (count[0] == 0) unavailableReason = "no CUDA device";
                }
            } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
                unavailableReason = linkFailure(String.valueOf(e.getMessage()));
            } catch (RuntimeException e) {
                unavailableReason = e.getMessage();
            }
        }
        return unavailableReason;
    }
}
