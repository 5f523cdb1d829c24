package io.entrollm.gpu;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JCudaDriver;

import java.io.IOException;
import java.io.InputStream;
import java.util.HashMap;
import java.util.Map;

/**
 * The device's primary context (the one cuBLAS and the runtime API share), made current on the
 * calling thread, and the kernel modules loaded into it from the fatbins embedded in this jar.
 * Close it to unload the modules and release the primary context.
 */
public final class CudaContext implements AutoCloseable {
    private final CUdevice device = new CUdevice();
    private final CUcontext context = new CUcontext();
    private final Map<String, CUmodule> modules = new HashMap<>();
    private final String name;
    private final int ccMajor, ccMinor;
    private boolean closed;

    private CudaContext(int ordinal) {
        String why = Cuda.unavailableReason();
        if (why != null) throw new CudaException("no usable GPU: " + why);
        int[] count = new int[1];
        Cuda.check(JCudaDriver.cuDeviceGetCount(count), "cuDeviceGetCount");
        if (ordinal < 0 || ordinal >= count[0]) throw new CudaException("GPU " + ordinal + " does not exist (" + count[0] + " devices)");
        Cuda.check(JCudaDriver.cuDeviceGet(device, ordinal), "cuDeviceGet");
        byte[] nameBytes = new byte[256];
        Cuda.check(JCudaDriver.cuDeviceGetName(nameBytes, nameBytes.length, device), "cuDeviceGetName");
        name = new String(nameBytes, 0, indexOfZero(nameBytes)).trim();
        int[] v = new int[1];
        Cuda.check(JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device), "cuDeviceGetAttribute");
        ccMajor = v[0];
        Cuda.check(JCudaDriver.cuDeviceGetAttribute(v, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device), "cuDeviceGetAttribute");
        ccMinor = v[0];
        Cuda.check(JCudaDriver.cuDevicePrimaryCtxRetain(context, device), "cuDevicePrimaryCtxRetain");
        makeCurrent();
    }

    /** Opens GPU {@code ordinal} (0 = the first). */
    public static CudaContext open(int ordinal) { return new CudaContext(ordinal); }

    private static int indexOfZero(byte[] b) {
        for (int i = 0; i < b.length; i++) if (b[i] == 0) return i;
        return b.length;
    }

    /** Binds the context to the calling thread (each thread that issues CUDA calls needs it once). */
    public void makeCurrent() { Cuda.check(JCudaDriver.cuCtxSetCurrent(context), "cuCtxSetCurrent"); }

    public String deviceName() { return name; }

    /** True on the CUDA simulator (native/cudasim), which names its devices "cudasim ...". */
    public boolean simulated() { return name.startsWith("cudasim"); }

    public String computeCapability() { return ccMajor + "." + ccMinor; }

    public int computeCapabilityMajor() { return ccMajor; }

    /** The driver's CUDA version, e.g. {@code 13.0}. */
    public String driverVersion() {
        int[] v = new int[1];
        Cuda.check(JCudaDriver.cuDriverGetVersion(v), "cuDriverGetVersion");
        return v[0] / 1000 + "." + (v[0] % 1000) / 10;
    }

    /** Free and total device memory in bytes. */
    public long[] memoryInfo() {
        long[] free = new long[1], total = new long[1];
        Cuda.check(JCudaDriver.cuMemGetInfo(free, total), "cuMemGetInfo");
        return new long[] {free[0], total[0]};
    }

    /** A kernel from the embedded fatbin {@code io/entrollm/gpu/kernels/<module>.fatbin}. */
    public synchronized CUfunction function(String module, String kernel) {
        CUmodule m = modules.computeIfAbsent(module, this::load);
        CUfunction f = new CUfunction();
        Cuda.check(JCudaDriver.cuModuleGetFunction(f, m, kernel), "cuModuleGetFunction(" + kernel + ")");
        return f;
    }

    private CUmodule load(String module) {
        String resource = "/io/entrollm/gpu/kernels/" + module + ".fatbin";
        byte[] fatbin;
        try (InputStream in = CudaContext.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new CudaException("kernel module " + module + ".fatbin is not in this build (built without nvcc? run `make kernels`)");
            }
            fatbin = in.readAllBytes();
        } catch (IOException e) {
            throw new CudaException("cannot read " + resource, e);
        }
        CUmodule m = new CUmodule();
        int status = JCudaDriver.cuModuleLoadData(m, fatbin);
        if (status == CUresult.CUDA_ERROR_NO_BINARY_FOR_GPU || status == CUresult.CUDA_ERROR_UNSUPPORTED_PTX_VERSION) {
            throw new CudaException(module + ".fatbin has no SASS or PTX usable on " + name + " (compute capability "
                    + computeCapability() + "): rebuild with `make kernels CUDA_ARCHS=" + ccMajor + ccMinor + "`");
        }
        Cuda.check(status, "cuModuleLoadData(" + module + ")");
        return m;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (CUmodule m : modules.values()) JCudaDriver.cuModuleUnload(m);
        modules.clear();
        JCudaDriver.cuDevicePrimaryCtxRelease(device);
    }
}
