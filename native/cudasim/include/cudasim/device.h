// device.h: force-included (g++ -include) before every cuda-kernels/*.cu compiled for the CUDA
// simulator. It gives CUDA C++'s device-side vocabulary a meaning on the CPU: each CUDA thread is a
// fiber run by libcuda.so.1 (native/cudasim/src/block_runner.cpp), __shared__ variables are
// thread_local (a block's fibers all run on one OS thread, one block at a time), barriers and warp
// collectives are calls into the simulator, which checks them (sites, masks, exited lanes).
// Arithmetic is IEEE float as on the GPU; kernels are compiled with -ffp-contract=off so that
// __fmul_rn/__fadd_rn stay separately rounded. What this cannot reproduce is listed in docs/GPU.md.
#pragma once
#define ENTRO_CUDASIM 1
#include <cuda_fp16.h>
#include <cuda_bf16.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cudasim/abi.h"

#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __shared__
#undef __restrict__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __restrict__ __restrict
#define __shared__ static thread_local
#define __launch_bounds__(...)


#define threadIdx (cudasim_self()->thread_idx)
#define blockIdx (cudasim_self()->block_idx)
#define blockDim (cudasim_self()->block_dim)
#define gridDim (cudasim_self()->grid_dim)
static const int warpSize = 32;

#define CUDASIM_STR2(x) #x
#define CUDASIM_STR(x) CUDASIM_STR2(x)
#define CUDASIM_SITE __FILE__ ":" CUDASIM_STR(__LINE__)
#define __syncthreads() cudasim_syncthreads(CUDASIM_SITE)
#define __syncwarp(...) cudasim_warp_op(CUDASIM_WARP_SYNC, cudasim::mask_or_all(__VA_ARGS__), 0, 0, CUDASIM_SITE)
#define __shfl_sync(mask, v, src, ...) cudasim::shfl(mask, v, cudasim::src_idx(src, ##__VA_ARGS__), CUDASIM_SITE)
#define __shfl_xor_sync(mask, v, m, ...) cudasim::shfl(mask, v, cudasim::src_xor(m, ##__VA_ARGS__), CUDASIM_SITE)
#define __shfl_down_sync(mask, v, d, ...) cudasim::shfl(mask, v, cudasim::src_down(d, ##__VA_ARGS__), CUDASIM_SITE)
#define __shfl_up_sync(mask, v, d, ...) cudasim::shfl(mask, v, cudasim::src_up(d, ##__VA_ARGS__), CUDASIM_SITE)
#define __ballot_sync(mask, pred) ((unsigned)cudasim_warp_op(CUDASIM_WARP_BALLOT, mask, (pred) ? 1 : 0, 0, CUDASIM_SITE))
#define __any_sync(mask, pred) (__ballot_sync(mask, pred) != 0)
#define __all_sync(mask, pred) (__ballot_sync(mask, pred) == (mask))

namespace cudasim {
inline unsigned mask_or_all() { return 0xFFFFFFFFu; }
inline unsigned mask_or_all(unsigned m) { return m; }
inline int lane() { return (int)cudasim_self()->lane; }
inline int src_idx(int src, int width = 32) { return (lane() / width) * width + (src % width); }
inline int src_xor(int m, int width = 32) { int s = lane() ^ m; return (s / width == lane() / width) ? s : lane(); }
inline int src_down(unsigned d, int width = 32) { return (lane() % width) + (int)d < width ? lane() + (int)d : lane(); }
inline int src_up(unsigned d, int width = 32) { return (lane() % width) >= (int)d ? lane() - (int)d : lane(); }
template <typename T> inline T shfl(unsigned mask, T v, int src, const char* site) {
    static_assert(sizeof(T) <= 8, "shuffle of at most 64 bits");
    uint64_t bits = 0;
    memcpy(&bits, &v, sizeof(T));
    bits = cudasim_warp_op(CUDASIM_WARP_SHFL, mask, bits, src, site);
    T out;
    memcpy(&out, &bits, sizeof(T));
    return out;
}
}  // namespace cudasim

// Integer and float min/max overloads as CUDA declares them.
#define CUDASIM_MINMAX(T) \
    inline T min(T a, T b) { return a < b ? a : b; } \
    inline T max(T a, T b) { return a > b ? a : b; }
CUDASIM_MINMAX(int)
CUDASIM_MINMAX(unsigned int)
CUDASIM_MINMAX(long)
CUDASIM_MINMAX(unsigned long)
CUDASIM_MINMAX(long long)
CUDASIM_MINMAX(unsigned long long)
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
#undef CUDASIM_MINMAX

// Separately rounded float operations (the translation unit is built with -ffp-contract=off).
inline float __fmul_rn(float a, float b) { return a * b; }
inline float __fadd_rn(float a, float b) { return a + b; }
inline float __fdiv_rn(float a, float b) { return a / b; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __uint_as_float(unsigned int u) { float f; memcpy(&f, &u, 4); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int u; memcpy(&u, &f, 4); return u; }
inline float __int_as_float(int u) { float f; memcpy(&f, &u, 4); return f; }
inline int __float_as_int(float f) { int u; memcpy(&u, &f, 4); return u; }

// Atomics: blocks of one launch may run on several OS threads at once.
template <typename T> inline T atomicCAS(T* p, T expected, T desired) {
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
template <typename T> inline T atomicAdd(T* p, T v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline float atomicAdd(float* p, float v) {
    float old, desired;
    __atomic_load(p, &old, __ATOMIC_SEQ_CST);
    do { desired = old + v; } while (!__atomic_compare_exchange(p, &old, &desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old;
}
template <typename T> inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
template <typename T> inline T atomicMax(T* p, T v) {
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
template <typename T> inline T atomicMin(T* p, T v) {
    T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
    while (old > v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {}
    return old;
}
inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Registration of a kernel with the simulator: its name, and an invoker that unpacks the
// cuLaunchKernel parameter array by the kernel's own parameter types.
namespace cudasim {
template <typename T> struct is_ptr { static const uint8_t value = 0; };
template <typename T> struct is_ptr<T*> { static const uint8_t value = 1; };
template <typename... A> struct Kernel {
    template <size_t... I> struct Seq {};
    template <size_t N, size_t... I> struct Make : Make<N - 1, N - 1, I...> {};
    template <size_t... I> struct Make<0, I...> { typedef Seq<I...> type; };
    template <size_t... I> static void call(void (*f)(A...), void** p, Seq<I...>) { f(*static_cast<A*>(p[I])...); }
    static void invoke(void* f, void** p) { call(reinterpret_cast<void (*)(A...)>(f), p, typename Make<sizeof...(A)>::type()); }
};
template <typename... A> struct Registrar {
    Registrar(const char* name, void (*f)(A...)) {
        static const uint32_t sizes[] = {0u, (uint32_t)sizeof(A)...};
        static const uint8_t ptrs[] = {0, is_ptr<A>::value...};
        cudasim_register_kernel(name, &Kernel<A...>::invoke, reinterpret_cast<void*>(f), (int)sizeof...(A), sizes + 1, ptrs + 1);
    }
};
template <typename... A> Registrar<A...> make_registrar(const char* name, void (*f)(A...)) { return Registrar<A...>(name, f); }
}  // namespace cudasim
#define CUDASIM_REGISTER(name) static auto cudasim_registrar_##name = cudasim::make_registrar(#name, &name);
