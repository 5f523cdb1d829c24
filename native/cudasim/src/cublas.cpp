// cublas.cpp: the cuBLAS calls the project makes (handle, stream, math mode, GemmEx, Sgemm), on
// the simulator's streams. Linked twice: as libcublas.so.13 (bytedeco's libjnicublas imports
// symbols versioned libcublas.so.13) and as libcublas.so.12 (JCublas2). Argument checks return the
// statuses cuBLAS returns; at execution every matrix must lie inside one device allocation, or the
// context gets the sticky CUDA_ERROR_ILLEGAL_ADDRESS a GPU would raise. The product is float32
// with a blocked, multi-threaded CPU kernel; summation order differs from cuBLAS (docs/GPU.md).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

extern "C" {
int cudasim_stream_enqueue(void* stream, void (*fn)(void*), void* arg, void (*free_fn)(void*));
int cudasim_device_range_ok(unsigned long long p, size_t bytes);
void cudasim_fault(int code, const char* message);
void cudasim_parallel_for(size_t n, void (*fn)(void*, size_t), void* arg);
}

namespace {

enum Status { SUCCESS = 0, NOT_INITIALIZED = 1, INVALID_VALUE = 7, NOT_SUPPORTED = 15 };
enum Type { R_32F = 0, R_16F = 2, R_16BF = 14 };

struct Handle {
    void* stream = nullptr;
    int math_mode = 0;
};

size_t type_size(int t) { return t == R_32F ? 4 : 2; }

float load(const void* base, size_t index, int type) {
    if (type == R_32F) return static_cast<const float*>(base)[index];
    if (type == R_16F) return __half2float(static_cast<const __half*>(base)[index]);
    return __bfloat162float(static_cast<const __nv_bfloat16*>(base)[index]);
}

void store(void* base, size_t index, int type, float v) {
    if (type == R_32F) static_cast<float*>(base)[index] = v;
    else if (type == R_16F) static_cast<__half*>(base)[index] = __float2half_rn(v);
    else static_cast<__nv_bfloat16*>(base)[index] = __float2bfloat16_rn(v);
}

struct Gemm {
    int transa, transb, m, n, k;
    float alpha, beta;
    const void *a, *b;
    void* c;
    int atype, btype, ctype, lda, ldb, ldc;
    // op(A) as m rows of k contiguous floats, op(B) as n columns of k contiguous floats
    std::vector<float> a_rows, b_cols;
    const float *ar = nullptr, *bc = nullptr;
    size_t ar_stride = 0, bc_stride = 0;
};

constexpr int kRowBlock = 32;

typedef float v8 __attribute__((vector_size(32)));

inline v8 load8(const float* p) {
    v8 v;
    memcpy(&v, p, sizeof v);
    return v;
}

inline float sum8(v8 v) {
    float s = 0;
    for (int i = 0; i < 8; ++i) s += v[i];
    return s;
}

// Rows [i0, i0 + kRowBlock) of C: 4 x 4 dot products at a time, 8 lanes wide.
void gemm_rows(void* arg, size_t block) {
    Gemm& g = *static_cast<Gemm*>(arg);
    const int i0 = static_cast<int>(block) * kRowBlock, i1 = std::min(g.m, i0 + kRowBlock), k = g.k, k8 = k / 8 * 8;
    for (int i = i0; i < i1; i += 4) {
        const int ri = std::min(4, i1 - i);
        for (int j = 0; j < g.n; j += 4) {
            const int rj = std::min(4, g.n - j);
            const float* ap[4];
            const float* bp[4];
            for (int r = 0; r < 4; ++r) ap[r] = g.ar + static_cast<size_t>(i + std::min(r, ri - 1)) * g.ar_stride;
            for (int c = 0; c < 4; ++c) bp[c] = g.bc + static_cast<size_t>(j + std::min(c, rj - 1)) * g.bc_stride;
            v8 acc[4][4] = {};
            for (int p = 0; p < k8; p += 8) {
                const v8 a0 = load8(ap[0] + p), a1 = load8(ap[1] + p), a2 = load8(ap[2] + p), a3 = load8(ap[3] + p);
                for (int c = 0; c < 4; ++c) {
                    const v8 bv = load8(bp[c] + p);
                    acc[0][c] += a0 * bv;
                    acc[1][c] += a1 * bv;
                    acc[2][c] += a2 * bv;
                    acc[3][c] += a3 * bv;
                }
            }
            for (int r = 0; r < ri; ++r) {
                for (int c = 0; c < rj; ++c) {
                    float s = sum8(acc[r][c]);
                    for (int p = k8; p < k; ++p) s += ap[r][p] * bp[c][p];
                    const size_t at = static_cast<size_t>(i + r) + static_cast<size_t>(j + c) * g.ldc;
                    float v = g.alpha * s;
                    if (g.beta != 0.0f) v += g.beta * load(g.c, at, g.ctype);  // beta == 0: C is not read (it may be NaN)
                    store(g.c, at, g.ctype, v);
                }
            }
        }
    }
}

bool inside(const char* what, const void* p, int type, long rows, long cols, long ld) {
    if (rows == 0 || cols == 0) return true;
    const size_t bytes = (static_cast<size_t>(cols - 1) * ld + rows) * type_size(type);
    if (cudasim_device_range_ok(reinterpret_cast<unsigned long long>(p), bytes)) return true;
    char msg[256];
    snprintf(msg, sizeof msg, "cublasGemmEx: matrix %s [%p, +%zu bytes) is not inside one device allocation: illegal address", what, p,
             bytes);
    cudasim_fault(700, msg);
    return false;
}

void free_gemm(void* arg) { delete static_cast<Gemm*>(arg); }

// Runs once per queued call, or once per launch of a graph that captured it: everything it derives is reset here.
void run_gemm(void* arg) {
    Gemm* g = static_cast<Gemm*>(arg);
    const long arows = g->transa ? g->k : g->m, acols = g->transa ? g->m : g->k;
    const long brows = g->transb ? g->n : g->k, bcols = g->transb ? g->k : g->n;
    if (!inside("A", g->a, g->atype, arows, acols, g->lda) || !inside("B", g->b, g->btype, brows, bcols, g->ldb) ||
        !inside("C", g->c, g->ctype, g->m, g->n, g->ldc)) {
        return;
    }
    if (g->m == 0 || g->n == 0) return;
    if (g->transa && g->atype == R_32F) {
        g->ar = static_cast<const float*>(g->a);
        g->ar_stride = static_cast<size_t>(g->lda);
    } else {
        g->a_rows.resize(static_cast<size_t>(g->m) * g->k);
        for (long i = 0; i < g->m; ++i)
            for (long p = 0; p < g->k; ++p)
                g->a_rows[i * g->k + p] = load(g->a, g->transa ? p + i * g->lda : i + p * g->lda, g->atype);
        g->ar = g->a_rows.data();
        g->ar_stride = static_cast<size_t>(g->k);
    }
    if (!g->transb && g->btype == R_32F) {
        g->bc = static_cast<const float*>(g->b);
        g->bc_stride = static_cast<size_t>(g->ldb);
    } else {
        g->b_cols.resize(static_cast<size_t>(g->n) * g->k);
        for (long j = 0; j < g->n; ++j)
            for (long p = 0; p < g->k; ++p)
                g->b_cols[j * g->k + p] = load(g->b, g->transb ? j + p * g->ldb : p + j * g->ldb, g->btype);
        g->bc = g->b_cols.data();
        g->bc_stride = static_cast<size_t>(g->k);
    }
    if (g->k == 0) {
        static const float zero[4] = {0, 0, 0, 0};
        g->ar = g->bc = zero;
        g->ar_stride = g->bc_stride = 0;
    }
    cudasim_parallel_for(static_cast<size_t>((g->m + kRowBlock - 1) / kRowBlock), gemm_rows, g);
}

int gemm(Handle* h, int transa, int transb, int m, int n, int k, const float* alpha, const void* a, int atype, int lda, const void* b,
         int btype, int ldb, const float* beta, void* c, int ctype, int ldc) {
    if (h == nullptr) return NOT_INITIALIZED;
    if (transa < 0 || transa > 2 || transb < 0 || transb > 2 || m < 0 || n < 0 || k < 0 || alpha == nullptr || beta == nullptr) {
        return INVALID_VALUE;
    }
    const int ta = transa != 0, tb = transb != 0;
    if (lda < std::max(1, ta ? k : m) || ldb < std::max(1, tb ? n : k) || ldc < std::max(1, m)) return INVALID_VALUE;
    const bool known = (atype == R_32F || atype == R_16F || atype == R_16BF);
    if (!known || btype != atype || !(ctype == R_32F || ctype == atype)) return NOT_SUPPORTED;
    Gemm* g = new Gemm{ta, tb, m, n, k, *alpha, *beta, a, b, c, atype, btype, ctype, lda, ldb, ldc, {}, {}, nullptr, nullptr, 0, 0};
    if (cudasim_stream_enqueue(h->stream, run_gemm, g, free_gemm) != 0) {
        delete g;
        return INVALID_VALUE;
    }
    return SUCCESS;
}

}  // namespace

#define API extern "C" __attribute__((visibility("default"))) int

API cublasCreate_v2(Handle** handle) {
    if (handle == nullptr) return INVALID_VALUE;
    *handle = new Handle();
    return SUCCESS;
}

API cublasDestroy_v2(Handle* handle) {
    if (handle == nullptr) return NOT_INITIALIZED;
    delete handle;
    return SUCCESS;
}

API cublasSetStream_v2(Handle* handle, void* stream) {
    if (handle == nullptr) return NOT_INITIALIZED;
    handle->stream = stream;
    return SUCCESS;
}

API cublasGetStream_v2(Handle* handle, void** stream) {
    if (handle == nullptr) return NOT_INITIALIZED;
    if (stream == nullptr) return INVALID_VALUE;
    *stream = handle->stream;
    return SUCCESS;
}

API cublasSetMathMode(Handle* handle, int mode) {
    if (handle == nullptr) return NOT_INITIALIZED;
    handle->math_mode = mode;
    return SUCCESS;
}

API cublasGetMathMode(Handle* handle, int* mode) {
    if (handle == nullptr) return NOT_INITIALIZED;
    if (mode == nullptr) return INVALID_VALUE;
    *mode = handle->math_mode;
    return SUCCESS;
}

// computeType is a cublasComputeType_t: CUBLAS_COMPUTE_32F (68) and its _FAST_ variants (74, 75, 77).
API cublasGemmEx(Handle* handle, int transa, int transb, int m, int n, int k, const void* alpha, const void* a, int atype, int lda,
                 const void* b, int btype, int ldb, const void* beta, void* c, int ctype, int ldc, int compute, int algo) {
    (void)algo;
    if (handle == nullptr) return NOT_INITIALIZED;
    if (compute != 68 && compute != 74 && compute != 75 && compute != 77) return INVALID_VALUE;
    return gemm(handle, transa, transb, m, n, k, static_cast<const float*>(alpha), a, atype, lda, b, btype, ldb,
                static_cast<const float*>(beta), c, ctype, ldc);
}

API cublasSgemm_v2(Handle* handle, int transa, int transb, int m, int n, int k, const float* alpha, const float* a, int lda, const float* b,
                   int ldb, const float* beta, float* c, int ldc) {
    return gemm(handle, transa, transb, m, n, k, alpha, a, R_32F, lda, b, R_32F, ldb, beta, c, R_32F, ldc);
}
