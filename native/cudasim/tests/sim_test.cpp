// sim_test.cpp: the CUDA simulator's own tests, through the driver API as a program would call it
// (real cuda.h, linked against the simulator's libcuda.so.1). Each case runs in a forked child with
// a fresh context, since a kernel fault poisons the context for good, as on a GPU.
// Usage: sim_test FAULT_KERNELS.fatbin; prints one line per case and "N passed, N failed".
#include <cuda.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

namespace {

std::string g_fatbin;

#define EXPECT(cond, ...)                                  \
    do {                                                   \
        if (!(cond)) {                                     \
            fprintf(stderr, "    %s:%d: ", __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                  \
            fprintf(stderr, "\n");                         \
            exit(1);                                       \
        }                                                  \
    } while (0)
#define CHECK(call) EXPECT((call) == CUDA_SUCCESS, "%s failed", #call)

struct Ctx {
    CUdevice dev;
    CUcontext ctx;
    CUmodule module;
    Ctx() {
        CHECK(cuInit(0));
        CHECK(cuDeviceGet(&dev, 0));
        CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
        CHECK(cuCtxSetCurrent(ctx));
        CHECK(cuModuleLoadData(&module, g_fatbin.data()));
    }
    CUfunction fn(const char* name) {
        CUfunction f;
        CHECK(cuModuleGetFunction(&f, module, name));
        return f;
    }
};

CUresult launch(CUfunction f, unsigned grid, unsigned block, unsigned shared, CUstream s, std::vector<void*> args) {
    return cuLaunchKernel(f, grid, 1, 1, block, 1, 1, shared, s, args.data(), nullptr);
}

void warp_and_block_collectives_compute_the_sum() {
    Ctx c;
    const int n = 256;
    std::vector<float> in(n);
    double sum = 0;
    int odd = 0;
    for (int i = 0; i < n; ++i) {
        in[i] = static_cast<float>(i % 7);
        sum += in[i];
        if (i < 32 && (i % 7) % 2 == 1) ++odd;
    }
    CUdeviceptr din, dout;
    CHECK(cuMemAlloc(&din, n * 4));
    CHECK(cuMemAlloc(&dout, 8));
    CHECK(cuMemcpyHtoD(din, in.data(), n * 4));
    CHECK(launch(c.fn("sim_block_sum"), 1, n, 0, nullptr, {&din, &dout}));
    float out[2];
    CHECK(cuMemcpyDtoH(out, dout, 8));
    EXPECT(out[0] == static_cast<float>(sum), "sum %f, expected %f", out[0], sum);
    EXPECT(out[1] == static_cast<float>(odd), "ballot counted %f odd lanes, expected %d", out[1], odd);
}

void out_of_bounds_write_is_an_illegal_address_and_sticky() {
    Ctx c;
    const int n = 1024;
    CUdeviceptr p;
    CHECK(cuMemAlloc(&p, n * 4));
    int past = n + 2048;
    float v = 1;
    EXPECT(launch(c.fn("sim_fill"), (past + 255) / 256, 256, 0, nullptr, {&p, &past, &v}) == CUDA_ERROR_ILLEGAL_ADDRESS ||
               cuCtxSynchronize() == CUDA_ERROR_ILLEGAL_ADDRESS,
           "the write past the end was not reported");
    CUdeviceptr q;
    EXPECT(cuMemAlloc(&q, 64) == CUDA_ERROR_ILLEGAL_ADDRESS, "the error is not sticky");
}

// Stream B copies what stream A is still writing: without cuStreamWaitEvent the copy must sometimes
// see the old contents (the simulator's streams really run concurrently); with it, never.
void missing_stream_wait_gives_a_wrong_result_sometimes() {
    Ctx c;
    const int n = 4096;
    CUdeviceptr buf, out;
    CHECK(cuMemAlloc(&buf, n * 4));
    CHECK(cuMemAlloc(&out, n * 4));
    CUstream a, b;
    CHECK(cuStreamCreate(&a, 0));
    CHECK(cuStreamCreate(&b, 0));
    CUevent filled;
    CHECK(cuEventCreate(&filled, CU_EVENT_DISABLE_TIMING));
    CUfunction slow = c.fn("sim_slow_fill"), copy = c.fn("sim_copy");
    std::vector<float> host(n);
    auto run = [&](bool wait) {
        CHECK(cuMemsetD8(buf, 0, n * 4));
        int nn = n, spin = 20000;
        float one = 1;
        CHECK(launch(slow, n / 128, 128, 0, a, {&buf, &nn, &one, &spin}));
        CHECK(cuEventRecord(filled, a));
        if (wait) CHECK(cuStreamWaitEvent(b, filled, 0));
        CHECK(launch(copy, n / 128, 128, 0, b, {&buf, &out, &nn}));
        CHECK(cuStreamSynchronize(b));
        CHECK(cuStreamSynchronize(a));
        CHECK(cuMemcpyDtoH(host.data(), out, n * 4));
        for (float x : host) if (x != 1.0f) return false;
        return true;
    };
    bool race_seen = false;
    for (int attempt = 0; attempt < 30 && !race_seen; ++attempt) race_seen = !run(false);
    EXPECT(race_seen, "30 runs without the wait all gave the right result: streams are not concurrent");
    for (int attempt = 0; attempt < 5; ++attempt) EXPECT(run(true), "wrong result although stream b waits for the event");
    CHECK(cuStreamDestroy(a));
    CHECK(cuStreamDestroy(b));
}

void expect_sync_fault(const char* kernel, unsigned block) {
    Ctx c;
    CUdeviceptr p;
    CHECK(cuMemAlloc(&p, 4096));
    const CUresult launched = launch(c.fn(kernel), 1, block, 0, nullptr, {&p});
    const CUresult r = launched != CUDA_SUCCESS ? launched : cuCtxSynchronize();
    EXPECT(r == CUDA_ERROR_ILLEGAL_INSTRUCTION, "%s: got %d, expected CUDA_ERROR_ILLEGAL_INSTRUCTION", kernel, r);
}

void barrier_at_two_call_sites_is_a_fault() { expect_sync_fault("sim_divergent_barrier", 64); }
void barrier_after_threads_exited_is_a_fault() { expect_sync_fault("sim_barrier_after_exit", 64); }
void shuffle_over_exited_lanes_is_a_fault() { expect_sync_fault("sim_shuffle_exited_lanes", 32); }

void too_large_launches_are_refused_like_the_driver() {
    Ctx c;
    CUdeviceptr p;
    CHECK(cuMemAlloc(&p, 8192 * 4));
    CUfunction f = c.fn("sim_use_shared");
    EXPECT(launch(f, 1, 2048, 0, nullptr, {&p}) == CUDA_ERROR_INVALID_VALUE, "2048 threads per block accepted");
    EXPECT(cuLaunchKernel(f, 1, 70000, 1, 32, 1, 1, 0, nullptr, std::vector<void*>{&p}.data(), nullptr) == CUDA_ERROR_INVALID_VALUE,
           "grid y of 70000 accepted");
    EXPECT(launch(f, 1, 256, 64 << 10, nullptr, {&p}) == CUDA_ERROR_INVALID_VALUE, "64 KiB dynamic shared memory without opt-in accepted");
    CHECK(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 64 << 10));
    CHECK(launch(f, 1, 256, 64 << 10, nullptr, {&p}));
    EXPECT(cuFuncSetAttribute(f, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, 300 << 10) == CUDA_ERROR_INVALID_VALUE,
           "300 KiB of shared memory allowed");
    std::vector<float> out(256);
    CHECK(cuMemcpyDtoH(out.data(), p, 256 * 4));
    for (int i = 0; i < 256; ++i) EXPECT(out[i] == static_cast<float>(255 - i), "shared memory result wrong at %d", i);
}

void jetson_nano_profile_needs_sm53_code() {
    setenv("CUDASIM_DEVICE", "jetson-nano", 1);
    CHECK(cuInit(0));
    CUdevice dev;
    CHECK(cuDeviceGet(&dev, 0));
    int major, minor;
    CHECK(cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, dev));
    CHECK(cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, dev));
    EXPECT(major == 5 && minor == 3, "compute capability %d.%d", major, minor);
    CUcontext ctx;
    CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
    CHECK(cuCtxSetCurrent(ctx));
    CUmodule m;
    EXPECT(cuModuleLoadData(&m, g_fatbin.data()) == CUDA_ERROR_NO_BINARY_FOR_GPU, "an sm_75+ fatbin loaded on sm_53");
}

void unknown_kernel_and_bad_copies_are_errors() {
    Ctx c;
    CUfunction f;
    EXPECT(cuModuleGetFunction(&f, c.module, "no_such_kernel") == CUDA_ERROR_NOT_FOUND, "unknown kernel found");
    CUdeviceptr p;
    CHECK(cuMemAlloc(&p, 64));
    char host[128] = {};
    EXPECT(cuMemcpyHtoD(p + 60, host, 8) == CUDA_ERROR_INVALID_VALUE, "copy past the allocation accepted");
    EXPECT(cuMemcpyDtoH(host, p, 128) == CUDA_ERROR_INVALID_VALUE, "copy past the allocation accepted");
    CHECK(cuMemcpyDtoH(host, p, 64));
    for (int i = 0; i < 64; ++i) EXPECT(static_cast<unsigned char>(host[i]) == 0xFF, "fresh memory is not poisoned");
    int n = 16;
    float v = 0;
    CUdeviceptr wild = 0x1000;
    EXPECT(launch(c.fn("sim_fill"), 1, 32, 0, nullptr, {&wild, &n, &v}) == CUDA_ERROR_INVALID_VALUE, "wild pointer argument accepted");
    size_t free_bytes, total;
    CHECK(cuMemGetInfo(&free_bytes, &total));
    EXPECT(total - free_bytes >= 64, "allocations not counted");
}

// A stream capture records work without running it; each launch of the instantiated graph runs it
// all again in order; work that a single-stream capture cannot hold is refused.
void captured_stream_replays_as_a_graph() {
    Ctx c;
    CUstream s;
    CHECK(cuStreamCreate(&s, CU_STREAM_NON_BLOCKING));
    CUdeviceptr a, b;
    CHECK(cuMemAlloc(&a, 64 * 4));
    CHECK(cuMemAlloc(&b, 64 * 4));
    CHECK(cuMemsetD8(b, 0, 64 * 4));
    int n = 64;
    float v = 2.5f;
    CHECK(cuStreamBeginCapture(s, CU_STREAM_CAPTURE_MODE_GLOBAL));
    int status = 0;
    CHECK(cuStreamIsCapturing(s, reinterpret_cast<CUstreamCaptureStatus*>(&status)));
    EXPECT(status == CU_STREAM_CAPTURE_STATUS_ACTIVE, "not capturing");
    CHECK(launch(c.fn("sim_fill"), 1, 64, 0, s, {&a, &n, &v}));
    CHECK(launch(c.fn("sim_copy"), 1, 64, 0, s, {&a, &b, &n}));
    EXPECT(cuStreamSynchronize(s) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "synchronising a capturing stream accepted");
    float host[64];
    EXPECT(cuMemcpyDtoH(host, b, sizeof host) == CUDA_ERROR_STREAM_CAPTURE_IMPLICIT, "legacy-stream copy during a capture accepted");
    CUevent e;
    CHECK(cuEventCreate(&e, 0));
    EXPECT(cuEventRecord(e, s) == CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED, "event record in a capture accepted");
    CUgraph g;
    CHECK(cuStreamEndCapture(s, &g));
    CHECK(cuStreamSynchronize(s));
    CHECK(cuMemcpyDtoH(host, b, sizeof host));
    for (int i = 0; i < 64; ++i) EXPECT(host[i] == 0.0f, "captured work ran at capture (b[%d] = %g)", i, host[i]);
    CUgraphExec exec;
    CHECK(cuGraphInstantiateWithFlags(&exec, g, 0));
    CHECK(cuGraphLaunch(exec, s));
    CHECK(cuStreamSynchronize(s));
    CHECK(cuMemcpyDtoH(host, b, sizeof host));
    for (int i = 0; i < 64; ++i) EXPECT(host[i] == 2.5f, "graph launch result wrong at %d: %g", i, host[i]);
    // the graph reads its arguments as captured; the buffers' contents are the launch's
    CHECK(cuMemsetD8(b, 0, 64 * 4));
    CHECK(cuGraphLaunch(exec, s));
    CHECK(cuGraphLaunch(exec, s));
    CHECK(cuStreamSynchronize(s));
    CHECK(cuMemcpyDtoH(host, b, sizeof host));
    for (int i = 0; i < 64; ++i) EXPECT(host[i] == 2.5f, "second launch result wrong at %d", i);
    EXPECT(cuStreamEndCapture(s, &g) == CUDA_ERROR_ILLEGAL_STATE, "ending a capture that was not begun accepted");
    CHECK(cuGraphExecDestroy(exec));
    CHECK(cuGraphDestroy(g));
    EXPECT(cuGraphLaunch(exec, s) == CUDA_ERROR_INVALID_HANDLE, "launch of a destroyed graph accepted");
    CHECK(cuStreamDestroy(s));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: sim_test FAULT_KERNELS.fatbin\n");
        return 2;
    }
    FILE* f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) g_fatbin.append(buf, got);
    fclose(f);
    const std::vector<std::pair<const char*, void (*)()>> cases = {
        {"warp and block collectives compute the sum", warp_and_block_collectives_compute_the_sum},
        {"out-of-bounds write is an illegal address, and sticky", out_of_bounds_write_is_an_illegal_address_and_sticky},
        {"missing stream wait gives a wrong result sometimes", missing_stream_wait_gives_a_wrong_result_sometimes},
        {"barrier at two call sites is a fault", barrier_at_two_call_sites_is_a_fault},
        {"barrier after threads exited is a fault", barrier_after_threads_exited_is_a_fault},
        {"shuffle over exited lanes is a fault", shuffle_over_exited_lanes_is_a_fault},
        {"too-large launches are refused like the driver", too_large_launches_are_refused_like_the_driver},
        {"Jetson Nano profile needs sm_53 code", jetson_nano_profile_needs_sm53_code},
        {"unknown kernel and bad copies are errors", unknown_kernel_and_bad_copies_are_errors},
        {"captured stream replays as a graph", captured_stream_replays_as_a_graph},
    };
    int passed = 0, failed = 0;
    for (const auto& c : cases) {
        fflush(stdout);
        const pid_t pid = fork();
        if (pid == 0) {
            c.second();
            fflush(stdout);
            _exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        printf("%s - cudasim: %s\n", ok ? "ok" : "FAILED", c.first);
        (ok ? passed : failed)++;
    }
    printf("cudasim: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
