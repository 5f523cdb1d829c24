// driver.cpp: the CUDA driver API entry points that the project (through JCuda) calls, on the
// simulator's memory, streams and CPU kernels. Every other name JCuda imports is a stub generated
// from imports/libcuda.so.1.txt (gen-stubs.sh) that says its name and returns NOT_SUPPORTED.
// Argument errors return what the real driver returns; a fault inside a kernel becomes a sticky
// context error, returned by every later call.
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "block_runner.hpp"
#include "common.hpp"
#include "kernels.hpp"
#include "memory.hpp"
#include "pool.hpp"
#include "profile.hpp"
#include "profile_times.hpp"
#include "stream.hpp"

using namespace cudasim;

typedef unsigned long long CUdeviceptr;
typedef int CUdevice;

// Work a stream capture cannot hold: names the call and returns code (stream capture section below).
Result capture_refused(const char* what, Result code = ERROR_STREAM_CAPTURE_UNSUPPORTED);

namespace {

struct Module {
    std::string image;  // the fatbin / cubin / PTX as loaded, to check kernel names against
    std::map<std::string, std::unique_ptr<struct Function>> functions;
};

struct Function {
    const KernelInfo* kernel;
    Module* module;
    int max_dynamic_shared;
};

struct Context {
    int refs = 0;
};

std::mutex g_mutex;
bool g_initialized = false;
Result g_init_result = ERROR_NOT_INITIALIZED;
Context g_context;
std::set<Module*> g_modules;
thread_local Context* tl_current = nullptr;

#define API extern "C" __attribute__((visibility("default"))) int
#define ENTER()                                        \
    do {                                               \
        if (!g_initialized) return ERROR_NOT_INITIALIZED; \
        if (sticky_error() != OK) return sticky_error(); \
    } while (0)

bool device_range(CUdeviceptr p, size_t bytes, const char* call, const char* which) {
    Allocation a;
    if (mem_find(static_cast<uintptr_t>(p), bytes, &a) && a.kind == MemKind::Device) return true;
    log("%s: %s [0x%llx, +%zu) is not inside one device allocation", call, which, p, bytes);
    return false;
}

bool pinned(const void* p, size_t bytes) {
    Allocation a;
    return mem_find(reinterpret_cast<uintptr_t>(p), bytes, &a) && a.kind == MemKind::PinnedHost;
}

Result launch_failed(Result code, const std::string& message) {
    set_sticky_error(code, message);
    return code;
}

// Which entries of a fatbin this device can run: SASS for exactly its compute capability, or PTX
// of an older or equal virtual architecture (the driver JIT-compiles it).
Result check_image(const unsigned char* image, std::string* kept) {
    uint32_t magic;
    memcpy(&magic, image, 4);
    const DeviceProfile& dev = device_profile();
    const uint32_t sm = static_cast<uint32_t>(dev.cc_major * 10 + dev.cc_minor);
    if (magic == 0xBA55ED50u) {
        uint16_t header;
        uint64_t size;
        memcpy(&header, image + 6, 2);
        memcpy(&size, image + 8, 8);
        if (header < 16 || size > (1ull << 32)) return ERROR_INVALID_IMAGE;
        bool usable = false;
        std::string archs;
        for (uint64_t off = header; off + 32 <= header + size;) {
            uint16_t kind;
            uint32_t entry_header, arch;
            uint64_t payload;
            memcpy(&kind, image + off, 2);
            memcpy(&entry_header, image + off + 4, 4);
            memcpy(&payload, image + off + 8, 8);
            memcpy(&arch, image + off + 28, 4);
            if (entry_header < 32 || payload > size) return ERROR_INVALID_IMAGE;
            archs += format("%s%s_%u", archs.empty() ? "" : " ", kind == 1 ? "compute" : "sm", arch);
            if ((kind == 2 && arch == sm) || (kind == 1 && arch <= sm)) usable = true;
            off += entry_header + payload;
        }
        if (!usable) {
            log("cuModuleLoadData: the fatbin holds %s, nothing for %s (sm_%u)", archs.c_str(), dev.name, sm);
            return ERROR_NO_BINARY_FOR_GPU;
        }
        kept->assign(reinterpret_cast<const char*>(image), header + size);
        return OK;
    }
    if (memcmp(image, "\x7f" "ELF", 4) == 0) {
        kept->assign(reinterpret_cast<const char*>(image), 64 << 10);  // names are found within; bounded copy
        return OK;
    }
    const char* text = reinterpret_cast<const char*>(image);
    if (strncmp(text, "//", 2) == 0 || strncmp(text, ".version", 8) == 0) {
        kept->assign(text);
        return OK;
    }
    return ERROR_INVALID_IMAGE;
}

bool image_names(const std::string& image, const char* name) {
    const std::string needle = std::string(name) + '\0';
    return image.find(needle) != std::string::npos || image.find(std::string(".entry ") + name) != std::string::npos;
}

}  // namespace

API cuInit(unsigned int flags) {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_initialized) return OK;
    if (flags != 0) return ERROR_INVALID_VALUE;
    if (g_init_result == ERROR_NOT_INITIALIZED) {
        device_profile();
        install_fault_handler();
        g_init_result = load_kernel_libraries() ? OK : ERROR_NOT_INITIALIZED;
    }
    g_initialized = g_init_result == OK;
    return g_init_result;
}

API cuDriverGetVersion(int* version) {
    if (!version) return ERROR_INVALID_VALUE;
    *version = 13000;
    return OK;
}

API cuDeviceGetCount(int* count) {
    ENTER();
    if (!count) return ERROR_INVALID_VALUE;
    *count = 1;
    return OK;
}

API cuDeviceGet(CUdevice* device, int ordinal) {
    ENTER();
    if (!device) return ERROR_INVALID_VALUE;
    if (ordinal != 0) return ERROR_INVALID_DEVICE;
    *device = 0;
    return OK;
}

API cuDeviceGetName(char* name, int len, CUdevice device) {
    ENTER();
    if (!name || len <= 0) return ERROR_INVALID_VALUE;
    if (device != 0) return ERROR_INVALID_DEVICE;
    snprintf(name, static_cast<size_t>(len), "%s", device_profile().name);
    return OK;
}

API cuDeviceGetAttribute(int* value, int attribute, CUdevice device) {
    ENTER();
    if (!value) return ERROR_INVALID_VALUE;
    if (device != 0) return ERROR_INVALID_DEVICE;
    if (!device_attribute(attribute, value)) {
        log("cuDeviceGetAttribute: attribute %d is not modelled by the simulator", attribute);
        return ERROR_INVALID_VALUE;
    }
    return OK;
}

API cuDeviceTotalMem_v2(size_t* bytes, CUdevice device) {
    ENTER();
    if (!bytes) return ERROR_INVALID_VALUE;
    if (device != 0) return ERROR_INVALID_DEVICE;
    *bytes = device_profile().memory_bytes;
    return OK;
}

API cuDevicePrimaryCtxRetain(void** context, CUdevice device) {
    ENTER();
    if (!context) return ERROR_INVALID_VALUE;
    if (device != 0) return ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_context.refs++;
    *context = &g_context;
    return OK;
}

API cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    ENTER();
    if (device != 0) return ERROR_INVALID_DEVICE;
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_context.refs == 0) return ERROR_INVALID_CONTEXT;
    g_context.refs--;
    return OK;
}

API cuCtxSetCurrent(void* context) {
    ENTER();
    if (context != nullptr && context != &g_context) return ERROR_INVALID_CONTEXT;
    tl_current = static_cast<Context*>(context);
    return OK;
}

API cuCtxGetCurrent(void** context) {
    ENTER();
    if (!context) return ERROR_INVALID_VALUE;
    *context = tl_current;
    return OK;
}

API cuCtxGetDevice(CUdevice* device) {
    ENTER();
    if (!device) return ERROR_INVALID_VALUE;
    *device = 0;
    return OK;
}

API cuCtxSynchronize(void) {
    ENTER();
    synchronize_all();
    return sticky_error();
}

// ---------------------------------------------------------------- memory

API cuMemAlloc_v2(CUdeviceptr* dptr, size_t bytes) {
    ENTER();
    if (!dptr || bytes == 0) return ERROR_INVALID_VALUE;
    bool oom;
    const uintptr_t p = mem_alloc(bytes, MemKind::Device, &oom);
    if (p == 0) return ERROR_OUT_OF_MEMORY;
    *dptr = p;
    return OK;
}

API cuMemFree_v2(CUdeviceptr dptr) {
    ENTER();
    if (dptr == 0) return OK;
    // the real driver waits for work that may still use the memory
    synchronize_all();
    return mem_free(static_cast<uintptr_t>(dptr), MemKind::Device) ? OK : ERROR_INVALID_VALUE;
}

API cuMemGetInfo_v2(size_t* free_bytes, size_t* total_bytes) {
    ENTER();
    if (!free_bytes || !total_bytes) return ERROR_INVALID_VALUE;
    *total_bytes = device_profile().memory_bytes;
    *free_bytes = *total_bytes - mem_device_used();
    return OK;
}

API cuMemAllocHost_v2(void** pp, size_t bytes) {
    ENTER();
    if (!pp || bytes == 0) return ERROR_INVALID_VALUE;
    bool oom;
    const uintptr_t p = mem_alloc(bytes, MemKind::PinnedHost, &oom);
    if (p == 0) return ERROR_OUT_OF_MEMORY;
    *pp = reinterpret_cast<void*>(p);
    return OK;
}

API cuMemHostAlloc(void** pp, size_t bytes, unsigned int flags) {
    (void)flags;
    return cuMemAllocHost_v2(pp, bytes);
}

API cuMemFreeHost(void* p) {
    ENTER();
    synchronize_all();
    return mem_free(reinterpret_cast<uintptr_t>(p), MemKind::PinnedHost) ? OK : ERROR_INVALID_VALUE;
}

API cuMemcpyHtoD_v2(CUdeviceptr dst, const void* src, size_t bytes) {
    ENTER();
    if (any_stream_capturing()) return capture_refused("cuMemcpyHtoD", ERROR_STREAM_CAPTURE_IMPLICIT);
    if (bytes == 0) return OK;
    if (!src || !device_range(dst, bytes, "cuMemcpyHtoD", "destination")) return ERROR_INVALID_VALUE;
    synchronize_all();
    memcpy(reinterpret_cast<void*>(dst), src, bytes);
    return sticky_error();
}

API cuMemcpyDtoH_v2(void* dst, CUdeviceptr src, size_t bytes) {
    ENTER();
    if (any_stream_capturing()) return capture_refused("cuMemcpyDtoH", ERROR_STREAM_CAPTURE_IMPLICIT);
    if (bytes == 0) return OK;
    if (!dst || !device_range(src, bytes, "cuMemcpyDtoH", "source")) return ERROR_INVALID_VALUE;
    synchronize_all();
    if (sticky_error() != OK) return sticky_error();
    memcpy(dst, reinterpret_cast<const void*>(src), bytes);
    return OK;
}

API cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
    ENTER();
    if (any_stream_capturing()) return capture_refused("cuMemcpyDtoD", ERROR_STREAM_CAPTURE_IMPLICIT);
    if (bytes == 0) return OK;
    if (!device_range(dst, bytes, "cuMemcpyDtoD", "destination") || !device_range(src, bytes, "cuMemcpyDtoD", "source")) {
        return ERROR_INVALID_VALUE;
    }
    stream_submit(nullptr, [=] { memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes); });
    return sticky_error();
}

API cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void* src, size_t bytes, void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return OK;
    if (!src || !device_range(dst, bytes, "cuMemcpyHtoDAsync", "destination")) return ERROR_INVALID_VALUE;
    if (pinned(src, bytes)) {
        // DMA from pinned memory happens when the stream gets there: the host must not touch src before
        stream_submit(s, [=] { memcpy(reinterpret_cast<void*>(dst), src, bytes); });
    } else {
        // pageable memory is staged at the call, as the driver does
        auto staged = std::make_shared<std::string>(static_cast<const char*>(src), bytes);
        stream_submit(s, [=] { memcpy(reinterpret_cast<void*>(dst), staged->data(), bytes); });
    }
    return OK;
}

API cuMemcpyDtoHAsync_v2(void* dst, CUdeviceptr src, size_t bytes, void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return OK;
    if (!dst || !device_range(src, bytes, "cuMemcpyDtoHAsync", "source")) return ERROR_INVALID_VALUE;
    stream_submit(s, [=] { memcpy(dst, reinterpret_cast<const void*>(src), bytes); });
    if (!pinned(dst, bytes)) return stream_synchronize(s);  // pageable destination: synchronous
    return OK;
}

API cuMemcpyDtoDAsync_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes, void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (bytes == 0) return OK;
    if (!device_range(dst, bytes, "cuMemcpyDtoDAsync", "destination") || !device_range(src, bytes, "cuMemcpyDtoDAsync", "source")) {
        return ERROR_INVALID_VALUE;
    }
    stream_submit(s, [=] { memmove(reinterpret_cast<void*>(dst), reinterpret_cast<const void*>(src), bytes); });
    return OK;
}

API cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t n) {
    ENTER();
    if (any_stream_capturing()) return capture_refused("cuMemsetD8", ERROR_STREAM_CAPTURE_IMPLICIT);
    if (n == 0) return OK;
    if (!device_range(dst, n, "cuMemsetD8", "destination")) return ERROR_INVALID_VALUE;
    stream_submit(nullptr, [=] { memset(reinterpret_cast<void*>(dst), value, n); });
    return sticky_error();
}

API cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t n, void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (n == 0) return OK;
    if (!device_range(dst, n, "cuMemsetD8Async", "destination")) return ERROR_INVALID_VALUE;
    stream_submit(s, [=] { memset(reinterpret_cast<void*>(dst), value, n); });
    return OK;
}

API cuMemsetD32_v2(CUdeviceptr dst, unsigned int value, size_t n) {
    ENTER();
    if (any_stream_capturing()) return capture_refused("cuMemsetD32", ERROR_STREAM_CAPTURE_IMPLICIT);
    if (n == 0) return OK;
    if ((dst & 3) != 0 || !device_range(dst, n * 4, "cuMemsetD32", "destination")) return ERROR_INVALID_VALUE;
    stream_submit(nullptr, [=] {
        unsigned int* p = reinterpret_cast<unsigned int*>(dst);
        for (size_t i = 0; i < n; ++i) p[i] = value;
    });
    return sticky_error();
}

// ---------------------------------------------------------------- streams and events

API cuStreamCreate(void** stream, unsigned int flags) {
    ENTER();
    if (!stream || flags > 1) return ERROR_INVALID_VALUE;
    *stream = stream_create(flags);
    return OK;
}

API cuStreamCreateWithPriority(void** stream, unsigned int flags, int priority) {
    (void)priority;
    return cuStreamCreate(stream, flags);
}

API cuStreamDestroy_v2(void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (s == nullptr || !stream_valid(s)) return ERROR_INVALID_HANDLE;
    stream_destroy(s);
    return OK;
}

API cuStreamSynchronize(void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (stream_capturing(s) || (s == nullptr && any_stream_capturing())) return capture_refused("cuStreamSynchronize");
    return stream_synchronize(s);
}

API cuStreamQuery(void* stream) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    return stream_idle(s) ? OK : ERROR_NOT_READY;
}

API cuStreamWaitEvent(void* stream, void* event, unsigned int flags) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    Event* e = static_cast<Event*>(event);
    if (!stream_valid(s) || !event_valid(e)) return ERROR_INVALID_HANDLE;
    if (flags != 0) return ERROR_INVALID_VALUE;
    if (stream_capturing(s)) return capture_refused("cuStreamWaitEvent");
    stream_wait_event(s, e);
    return OK;
}

API cuEventCreate(void** event, unsigned int flags) {
    ENTER();
    if (!event || (flags & ~0xFu) != 0) return ERROR_INVALID_VALUE;
    *event = event_create(flags);
    return OK;
}

API cuEventDestroy_v2(void* event) {
    ENTER();
    Event* e = static_cast<Event*>(event);
    if (!event_valid(e)) return ERROR_INVALID_HANDLE;
    event_destroy(e);
    return OK;
}

API cuEventRecord(void* event, void* stream) {
    ENTER();
    Event* e = static_cast<Event*>(event);
    Stream* s = static_cast<Stream*>(stream);
    if (!event_valid(e) || !stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (stream_capturing(s)) return capture_refused("cuEventRecord");
    event_record(e, s);
    return OK;
}

API cuEventSynchronize(void* event) {
    ENTER();
    Event* e = static_cast<Event*>(event);
    if (!event_valid(e)) return ERROR_INVALID_HANDLE;
    return event_synchronize(e);
}

API cuEventQuery(void* event) {
    ENTER();
    Event* e = static_cast<Event*>(event);
    if (!event_valid(e)) return ERROR_INVALID_HANDLE;
    return event_done(e) ? OK : ERROR_NOT_READY;
}

API cuEventElapsedTime(float* ms, void* start, void* end) {
    ENTER();
    Event* a = static_cast<Event*>(start);
    Event* b = static_cast<Event*>(end);
    if (!ms) return ERROR_INVALID_VALUE;
    if (!event_valid(a) || !event_valid(b)) return ERROR_INVALID_HANDLE;
    if ((a->flags | b->flags) & 0x2) return ERROR_INVALID_HANDLE;  // CU_EVENT_DISABLE_TIMING
    if (a->recorded == 0 || b->recorded == 0) return ERROR_INVALID_HANDLE;
    if (!event_done(a) || !event_done(b)) return ERROR_NOT_READY;
    std::lock_guard<std::mutex> la(a->m);
    *ms = static_cast<float>(b->time_ms - (a == b ? b->time_ms : a->time_ms));
    return OK;
}

// ---------------------------------------------------------------- modules and launches

API cuModuleLoadData(void** module, const void* image) {
    ENTER();
    if (!module || !image) return ERROR_INVALID_VALUE;
    auto m = std::make_unique<Module>();
    const Result r = check_image(static_cast<const unsigned char*>(image), &m->image);
    if (r != OK) return r;
    std::lock_guard<std::mutex> lock(g_mutex);
    *module = m.get();
    g_modules.insert(m.release());
    return OK;
}

API cuModuleLoadDataEx(void** module, const void* image, unsigned int n, void* options, void** values) {
    (void)n; (void)options; (void)values;
    return cuModuleLoadData(module, image);
}

API cuModuleUnload(void* module) {
    ENTER();
    Module* m = static_cast<Module*>(module);
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_modules.erase(m) == 0) return ERROR_INVALID_HANDLE;
    delete m;
    return OK;
}

API cuModuleGetFunction(void** function, void* module, const char* name) {
    ENTER();
    if (!function || !name) return ERROR_INVALID_VALUE;
    Module* m = static_cast<Module*>(module);
    std::lock_guard<std::mutex> lock(g_mutex);
    if (g_modules.count(m) == 0) return ERROR_INVALID_HANDLE;
    if (!image_names(m->image, name)) return ERROR_NOT_FOUND;
    const KernelInfo* k = find_kernel(name);
    if (k == nullptr) {
        log("cuModuleGetFunction: kernel %s is in the module but in no CPU kernel library (rebuild native/cudasim: make cudasim)", name);
        return ERROR_NOT_FOUND;
    }
    auto& slot = m->functions[name];
    if (!slot) slot.reset(new Function{k, m, device_profile().shared_per_block});
    *function = slot.get();
    return OK;
}

API cuFuncSetAttribute(void* function, int attribute, int value) {
    ENTER();
    Function* f = static_cast<Function*>(function);
    if (!f) return ERROR_INVALID_HANDLE;
    if (attribute == 8) {  // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
        if (value < 0 || value > device_profile().shared_per_block_optin) return ERROR_INVALID_VALUE;
        f->max_dynamic_shared = value;
        return OK;
    }
    if (attribute == 9) return OK;  // PREFERRED_SHARED_MEMORY_CARVEOUT: a hint
    log("cuFuncSetAttribute: attribute %d is not modelled by the simulator", attribute);
    return ERROR_NOT_SUPPORTED;
}

API cuFuncGetAttribute(int* value, int attribute, void* function) {
    ENTER();
    Function* f = static_cast<Function*>(function);
    if (!f) return ERROR_INVALID_HANDLE;
    if (!value) return ERROR_INVALID_VALUE;
    switch (attribute) {
        case 0: *value = 1024; return OK;                     // MAX_THREADS_PER_BLOCK
        case 1: *value = 0; return OK;                        // SHARED_SIZE_BYTES (static: not known here)
        case 8: *value = f->max_dynamic_shared; return OK;
        default: return ERROR_NOT_SUPPORTED;
    }
}

API cuLaunchKernel(void* function, unsigned int gx, unsigned int gy, unsigned int gz, unsigned int bx, unsigned int by,
                   unsigned int bz, unsigned int shared_bytes, void* stream, void** params, void** extra) {
    ENTER();
    Function* f = static_cast<Function*>(function);
    Stream* s = static_cast<Stream*>(stream);
    if (!f) return ERROR_INVALID_HANDLE;
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    const KernelInfo* k = f->kernel;
    const unsigned long long threads = 1ull * bx * by * bz;
    if (gx == 0 || gy == 0 || gz == 0 || bx == 0 || by == 0 || bz == 0 || threads > 1024 || bx > 1024 || by > 1024 || bz > 64 ||
        gx > 2147483647u || gy > 65535 || gz > 65535) {
        log("cuLaunchKernel(%s): grid (%u,%u,%u) x block (%u,%u,%u) exceeds the device's limits", k->name.c_str(), gx, gy, gz, bx, by, bz);
        return ERROR_INVALID_VALUE;
    }
    if (static_cast<int>(shared_bytes) > f->max_dynamic_shared || shared_bytes > static_cast<unsigned>(device_profile().shared_per_block_optin)) {
        log("cuLaunchKernel(%s): %u bytes of dynamic shared memory, the function allows %d", k->name.c_str(), shared_bytes, f->max_dynamic_shared);
        return ERROR_INVALID_VALUE;
    }
    if (extra != nullptr) return ERROR_NOT_SUPPORTED;
    const size_t n = k->param_sizes.size();
    if (n > 0 && params == nullptr) return ERROR_INVALID_VALUE;
    auto spec = std::make_shared<LaunchSpec>();
    spec->kernel = k;
    spec->grid = {gx, gy, gz};
    spec->block = {bx, by, bz};
    spec->dynamic_shared = shared_bytes;
    std::vector<size_t> offsets(n);
    size_t total = 0;
    for (size_t i = 0; i < n; ++i) {
        total = (total + 15) / 16 * 16;
        offsets[i] = total;
        total += k->param_sizes[i];
    }
    spec->arg_storage.resize(total + 16);
    for (size_t i = 0; i < n; ++i) {
        memcpy(spec->arg_storage.data() + offsets[i], params[i], k->param_sizes[i]);
        if (k->param_is_pointer[i]) {
            uintptr_t p;
            memcpy(&p, params[i], sizeof p);
            if (p != 0 && !mem_find(p, 0, nullptr)) {
                log("cuLaunchKernel(%s): parameter %zu (0x%lx) points into no allocation", k->name.c_str(), i, static_cast<unsigned long>(p));
                return ERROR_INVALID_VALUE;
            }
        }
    }
    // arg_storage is a std::vector: its data is 16-byte aligned by operator new
    for (size_t i = 0; i < n; ++i) spec->args.push_back(spec->arg_storage.data() + offsets[i]);
    stream_submit(s, [spec] {
        std::string message;
        const uint64_t start = profiling() ? now_nanos() : 0;
        const Result r = run_launch(*spec, &message);
        if (start) profile_add(spec->kernel->name, now_nanos() - start);
        if (r != OK) launch_failed(r, message);
    });
    return sticky_error();
}

// ---------------------------------------------------------------- stream capture and graphs

namespace {
std::mutex g_graph_mutex;
std::set<Graph*> g_graphs;
std::set<Graph*> g_execs;  // an instantiated graph is a copy of the graph's operations

bool graph_valid(std::set<Graph*>& set, Graph* g) {
    std::lock_guard<std::mutex> lock(g_graph_mutex);
    return set.count(g) != 0;
}
}  // namespace

Result capture_refused(const char* what, Result code) {
    log("%s during a stream capture: the simulator captures one stream's launches, copies and memsets only", what);
    return code;
}

API cuStreamBeginCapture_v2(void* stream, int mode) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (mode < 0 || mode > 2) return ERROR_INVALID_VALUE;  // global, thread-local, relaxed
    return stream_begin_capture(s);
}

API cuStreamEndCapture(void* stream, void** graph) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (graph == nullptr) return ERROR_INVALID_VALUE;
    Graph* g = nullptr;
    const Result r = stream_end_capture(s, &g);
    if (r != OK) return r;
    std::lock_guard<std::mutex> lock(g_graph_mutex);
    g_graphs.insert(g);
    *graph = g;
    return OK;
}

API cuStreamIsCapturing(void* stream, int* status) {
    ENTER();
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (status == nullptr) return ERROR_INVALID_VALUE;
    *status = stream_capturing(s) ? 1 : 0;  // CU_STREAM_CAPTURE_STATUS_ACTIVE / NONE
    return OK;
}

API cuGraphInstantiateWithFlags(void** exec, void* graph, unsigned long long flags) {
    ENTER();
    Graph* g = static_cast<Graph*>(graph);
    if (exec == nullptr || flags != 0) return ERROR_INVALID_VALUE;
    if (!graph_valid(g_graphs, g)) return ERROR_INVALID_HANDLE;
    Graph* e = new Graph(*g);
    std::lock_guard<std::mutex> lock(g_graph_mutex);
    g_execs.insert(e);
    *exec = e;
    return OK;
}

API cuGraphLaunch(void* exec, void* stream) {
    ENTER();
    Graph* e = static_cast<Graph*>(exec);
    Stream* s = static_cast<Stream*>(stream);
    if (!graph_valid(g_execs, e) || !stream_valid(s)) return ERROR_INVALID_HANDLE;
    if (stream_capturing(s)) return capture_refused("cuGraphLaunch");
    for (const auto& op : e->ops) stream_submit(s, op);
    return sticky_error();
}

API cuGraphExecDestroy(void* exec) {
    ENTER();
    Graph* e = static_cast<Graph*>(exec);
    {
        std::lock_guard<std::mutex> lock(g_graph_mutex);
        if (g_execs.erase(e) == 0) return ERROR_INVALID_HANDLE;
    }
    synchronize_all();  // a launch still queued holds copies of its operations, but be as strict as the driver
    delete e;
    return OK;
}

API cuGraphDestroy(void* graph) {
    ENTER();
    Graph* g = static_cast<Graph*>(graph);
    {
        std::lock_guard<std::mutex> lock(g_graph_mutex);
        if (g_graphs.erase(g) == 0) return ERROR_INVALID_HANDLE;
    }
    delete g;
    return OK;
}

API cuGetErrorString(int error, const char** text) {
    if (!text) return ERROR_INVALID_VALUE;
    *text = error == OK ? "no error" : "see the cudasim: line on stderr";
    return OK;
}

API cuGetErrorName(int error, const char** text) { return cuGetErrorString(error, text); }

// ---------------------------------------------------------------- for libcublas (the shims)

// fn(arg) on the stream; arg is freed by free_fn once no queued or captured operation needs it (a
// captured operation runs once per graph launch).
extern "C" __attribute__((visibility("default"))) int cudasim_stream_enqueue(void* stream, void (*fn)(void*), void* arg, void (*free_fn)(void*)) {
    Stream* s = static_cast<Stream*>(stream);
    if (!stream_valid(s)) return ERROR_INVALID_HANDLE;
    std::shared_ptr<void> owned(arg, free_fn);
    stream_submit(s, [fn, owned] {
        const uint64_t start = profiling() ? now_nanos() : 0;
        fn(owned.get());
        if (start) profile_add("cuBLAS GEMM", now_nanos() - start);
    });
    return OK;
}

extern "C" __attribute__((visibility("default"))) int cudasim_device_range_ok(unsigned long long p, size_t bytes) {
    Allocation a;
    return mem_find(static_cast<uintptr_t>(p), bytes, &a) && a.kind == MemKind::Device;
}

extern "C" __attribute__((visibility("default"))) void cudasim_fault(int code, const char* message) {
    set_sticky_error(static_cast<Result>(code), message);
}

extern "C" __attribute__((visibility("default"))) void cudasim_parallel_for(size_t n, void (*fn)(void*, size_t), void* arg) {
    parallel_for(n, [fn, arg](size_t i) { fn(arg, i); });
}

extern "C" __attribute__((visibility("default"))) int cudasim_threads(void) { return pool_threads(); }
