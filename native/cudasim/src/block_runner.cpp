#include "block_runner.hpp"

#include "memory.hpp"
#include "pool.hpp"

#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>

extern "C" void cudasim_fiber_switch(void** save_sp, void* next_sp);
extern "C" void cudasim_fiber_trampoline();

namespace cudasim {

namespace {

constexpr size_t kStackBytes = 64 << 10;

enum class State { Fresh, Ready, AtBarrier, AtWarp, Exited };

struct Fiber {
    void* sp = nullptr;
    void* stack = nullptr;  // mapping base (guard page first), or null
    State state = State::Fresh;
    const char* site = nullptr;
    int kind = 0;
    unsigned mask = 0;
    uint64_t value = 0;
    int src = 0;
    uint64_t result = 0;
    cudasim_thread self{};
};

struct Runner {
    std::vector<Fiber> fibers;
    std::vector<void*> free_stacks;
    void* sched_sp = nullptr;
    sigjmp_buf fault_jump;
    unsigned char* shared = nullptr;
    size_t shared_capacity = 0;
    const LaunchSpec* launch = nullptr;
    uintptr_t fault_addr = 0;
    int fault_signal = 0;
    Fiber* fault_fiber = nullptr;

    ~Runner() {
        for (Fiber& f : fibers) release(f);
        for (void* s : free_stacks) munmap(s, kStackBytes + page());
        free(shared);
    }
    static size_t page() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }
    void* take_stack() {
        if (!free_stacks.empty()) {
            void* s = free_stacks.back();
            free_stacks.pop_back();
            return s;
        }
        void* m = mmap(nullptr, kStackBytes + page(), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED) {
            log("out of host memory for fiber stacks");
            abort();
        }
        mprotect(m, page(), PROT_NONE);  // stack overflow guard
        return m;
    }
    void release(Fiber& f) {
        if (f.stack) free_stacks.push_back(f.stack);
        f.stack = nullptr;
    }
};

// initial-exec: read by the signal handler, which must not allocate; three words of static TLS.
__thread Runner* tl_runner __attribute__((tls_model("initial-exec")));
__thread Fiber* tl_fiber __attribute__((tls_model("initial-exec")));
__thread int tl_in_kernel __attribute__((tls_model("initial-exec")));

// Owns the thread's runner and frees it (stacks included) when the thread ends.
struct RunnerOwner {
    std::unique_ptr<Runner> runner;
    Runner& get() {
        if (!runner) {
            runner.reset(new Runner());
            tl_runner = runner.get();
        }
        return *runner;
    }
};
thread_local RunnerOwner tl_owner;

void fiber_main(void* arg) {
    Fiber* f = static_cast<Fiber*>(arg);
    const LaunchSpec& l = *tl_runner->launch;
    l.kernel->invoke(l.kernel->fn, const_cast<void**>(l.args.data()));
    f->state = State::Exited;
    cudasim_fiber_switch(&f->sp, tl_runner->sched_sp);
    __builtin_unreachable();
}

void prepare(Runner& r, Fiber& f) {
    f.stack = r.take_stack();
    // Stack tops 68 KiB apart would all map to the same L1 sets: offset each by a few cache lines.
    const uintptr_t base = reinterpret_cast<uintptr_t>(f.stack);
    uintptr_t top = (base + Runner::page() + kStackBytes - ((base >> 12) % 31) * 128) & ~uintptr_t(15);
#if defined(__x86_64__)
    uint64_t* frame = reinterpret_cast<uint64_t*>(top - 72);
    memset(frame, 0, 72);
    frame[2] = reinterpret_cast<uint64_t>(&f);           // r13: argument
    frame[3] = reinterpret_cast<uint64_t>(&fiber_main);  // r12: entry
    frame[6] = reinterpret_cast<uint64_t>(&cudasim_fiber_trampoline);
#else
    uint64_t* frame = reinterpret_cast<uint64_t*>(top - 160);
    memset(frame, 0, 160);
    frame[0] = reinterpret_cast<uint64_t>(&fiber_main);  // x19: entry
    frame[1] = reinterpret_cast<uint64_t>(&f);           // x20: argument
    frame[11] = reinterpret_cast<uint64_t>(&cudasim_fiber_trampoline);  // x30
#endif
    f.sp = frame;
}

void resume(Runner& r, Fiber& f) {
    if (f.state == State::Fresh) prepare(r, f);
    f.state = State::Ready;
    tl_fiber = &f;
    tl_in_kernel = 1;
    cudasim_fiber_switch(&r.sched_sp, f.sp);
    tl_in_kernel = 0;
    tl_fiber = nullptr;
    if (f.state == State::Exited) r.release(f);
}

// Suspends the running fiber (it has set its state) and returns to the block's scheduler.
void yield_to_scheduler() {
    Fiber* f = tl_fiber;
    cudasim_fiber_switch(&f->sp, tl_runner->sched_sp);
}

std::string where(const LaunchSpec& l, const cudasim_thread& t) {
    return format("kernel %s block (%u,%u,%u) thread (%u,%u,%u)", l.kernel->name.c_str(), t.block_idx.x, t.block_idx.y,
                  t.block_idx.z, t.thread_idx.x, t.thread_idx.y, t.thread_idx.z);
}

const char* kind_name(int kind) {
    return kind == CUDASIM_WARP_SYNC ? "__syncwarp" : kind == CUDASIM_WARP_SHFL ? "__shfl_*_sync" : "__ballot_sync";
}

// Completes the collectives of the warp starting at thread `base` whose lanes have all arrived.
// Returns false with *fault set when one can never complete correctly; *released tells whether any
// lane may run again.
bool resolve_warp(Runner& r, size_t base, bool* released, std::string* fault) {
    std::vector<Fiber>& fs = r.fibers;
    const size_t n = fs.size();
    {
        const size_t lanes = std::min<size_t>(32, n - base);
        unsigned handled = 0;
        for (size_t l = 0; l < lanes; ++l) {
            Fiber& first = fs[base + l];
            if (first.state != State::AtWarp || (handled >> l & 1u)) continue;
            const unsigned mask = first.mask;
            if (!(mask >> l & 1u)) {
                *fault = where(*r.launch, first.self) + format(": %s at %s: mask 0x%08x does not name the calling lane %zu",
                                                               kind_name(first.kind), first.site, mask, l);
                return false;
            }
            bool complete = true;
            for (unsigned j = 0; j < 32; ++j) {
                if (!(mask >> j & 1u)) continue;
                if (j >= lanes) {
                    *fault = format("%s at %s: mask 0x%08x names lane %u, which this block does not have (blockDim %u)",
                                    kind_name(first.kind), first.site, mask, j, r.launch->block.x * r.launch->block.y * r.launch->block.z);
                    *fault = where(*r.launch, first.self) + ": " + *fault;
                    return false;
                }
                Fiber& other = fs[base + j];
                if (other.state == State::Exited) {
                    *fault = where(*r.launch, first.self) + format(": %s at %s: mask 0x%08x names lane %u, which has exited",
                                                                   kind_name(first.kind), first.site, mask, j);
                    return false;
                }
                if (other.state != State::AtWarp) { complete = false; continue; }
                if (other.site != first.site && strcmp(other.site, first.site) != 0) {
                    *fault = where(*r.launch, first.self) + format(": lanes of one warp wait at different warp collectives (%s and %s)",
                                                                   first.site, other.site);
                    return false;
                }
                if (other.mask != mask) {
                    *fault = where(*r.launch, first.self) + format(": %s at %s with different masks (0x%08x and 0x%08x)",
                                                                   kind_name(first.kind), first.site, mask, other.mask);
                    return false;
                }
            }
            if (!complete) continue;
            uint64_t ballot = 0;
            for (unsigned j = 0; j < 32; ++j) if (mask >> j & 1u) ballot |= (fs[base + j].value != 0 ? 1ull : 0ull) << j;
            for (unsigned j = 0; j < 32; ++j) {
                if (!(mask >> j & 1u)) continue;
                Fiber& f = fs[base + j];
                if (f.kind == CUDASIM_WARP_SHFL) {
                    const int src = f.src;
                    if (src < 0 || src >= 32 || !(mask >> src & 1u)) {
                        *fault = where(*r.launch, f.self) + format(": __shfl_*_sync at %s reads lane %d, which is not in mask 0x%08x",
                                                                   f.site, src, mask);
                        return false;
                    }
                    f.result = fs[base + src].value;
                } else {
                    f.result = ballot;
                }
                f.state = State::Ready;
                handled |= 1u << j;
            }
            *released = true;
        }
    }
    return true;
}

std::string describe_stuck(Runner& r, size_t exited) {
    const std::vector<Fiber>& fs = r.fibers;
    const Fiber* barrier = nullptr;
    const Fiber* warp = nullptr;
    for (const Fiber& f : fs) {
        if (f.state == State::AtBarrier && !barrier) barrier = &f;
        if (f.state == State::AtWarp && !warp) warp = &f;
    }
    if (barrier && !warp) {
        for (const Fiber& f : fs) {
            if (f.state == State::AtBarrier && strcmp(f.site, barrier->site) != 0) {
                return where(*r.launch, barrier->self) + format(": __syncthreads reached from different call sites (%s and %s)",
                                                                barrier->site, f.site);
            }
        }
        return where(*r.launch, barrier->self) + format(": divergent __syncthreads at %s: %zu of %zu threads exited without reaching it",
                                                        barrier->site, exited, fs.size());
    }
    return where(*r.launch, (warp ? warp : barrier)->self) +
           format(": deadlock: threads wait at __syncthreads (%s) while lanes wait at a warp collective (%s) for them",
                  barrier ? barrier->site : "-", warp ? warp->site : "-");
}

Result run_block(Runner& r, const LaunchSpec& l, unsigned block_linear, std::string* message) {
    const cudasim_dim3 b = l.block, g = l.grid;
    const size_t n = static_cast<size_t>(b.x) * b.y * b.z;
    const cudasim_dim3 bidx{block_linear % g.x, (block_linear / g.x) % g.y, block_linear / (g.x * g.y)};
    r.fibers.assign(n, Fiber());
    for (size_t i = 0; i < n; ++i) {
        cudasim_thread& t = r.fibers[i].self;
        t.thread_idx = {static_cast<unsigned>(i % b.x), static_cast<unsigned>((i / b.x) % b.y), static_cast<unsigned>(i / (b.x * b.y))};
        t.block_idx = bidx;
        t.block_dim = b;
        t.grid_dim = g;
        t.lane = static_cast<unsigned>(i % 32);
    }
    if (l.dynamic_shared > r.shared_capacity) {
        free(r.shared);
        r.shared = static_cast<unsigned char*>(aligned_alloc(256, (l.dynamic_shared + 255) / 256 * 256));
        r.shared_capacity = l.dynamic_shared;
    }
    if (l.dynamic_shared) memset(r.shared, 0xFF, l.dynamic_shared);  // shared memory starts undefined
    r.launch = &l;

    if (sigsetjmp(r.fault_jump, 1) != 0) {
        tl_in_kernel = 0;
        tl_fiber = nullptr;
        for (Fiber& f : r.fibers) r.release(f);
        Allocation a;
        bool after = false;
        std::string what;
        const uintptr_t addr = r.fault_addr;
        if (r.fault_signal == SIGFPE) {
            *message = where(l, r.fault_fiber->self) + ": integer division by zero (a GPU returns an undefined value; the CPU traps)";
            return ERROR_ILLEGAL_INSTRUCTION;
        }
        if (mem_guard_of(addr, &a, &after)) {
            what = after ? format("%zu bytes past the end of %s", static_cast<size_t>(addr - a.base - a.size), describe(a).c_str())
                         : format("%zu bytes before the start of %s", static_cast<size_t>(a.base - addr), describe(a).c_str());
        } else if (r.fault_fiber && r.fault_fiber->stack && addr >= reinterpret_cast<uintptr_t>(r.fault_fiber->stack) &&
                   addr < reinterpret_cast<uintptr_t>(r.fault_fiber->stack) + Runner::page()) {
            what = format("fiber stack overflow (%zu KiB per CUDA thread)", kStackBytes >> 10);
        } else {
            what = "no allocation there";
        }
        *message = where(l, r.fault_fiber->self) + format(": illegal address 0x%lx: %s", static_cast<unsigned long>(addr), what.c_str());
        return ERROR_ILLEGAL_ADDRESS;
    }

    for (;;) {
        // Warp by warp: a warp runs on through its collectives while its lanes' stacks are in cache,
        // until every lane has exited or waits at __syncthreads (or at a collective that cannot complete).
        for (size_t base = 0; base < n; base += 32) {
            const size_t end = std::min(n, base + 32);
            for (;;) {
                for (size_t i = base; i < end; ++i) {
                    Fiber& f = r.fibers[i];
                    if (f.state == State::Fresh || f.state == State::Ready) resume(r, f);
                }
                bool released = false;
                if (!resolve_warp(r, base, &released, message)) {
                    for (Fiber& f : r.fibers) r.release(f);
                    return ERROR_ILLEGAL_INSTRUCTION;
                }
                if (!released) break;
            }
        }
        size_t exited = 0;
        for (const Fiber& f : r.fibers) exited += f.state == State::Exited;
        if (exited == n) return OK;
        bool all_at_barrier = true;
        for (const Fiber& f : r.fibers) all_at_barrier &= f.state == State::Exited || f.state == State::AtBarrier;
        const char* site = nullptr;
        bool same_site = true;
        for (const Fiber& f : r.fibers) {
            if (f.state != State::AtBarrier) continue;
            if (site == nullptr) site = f.site;
            else if (f.site != site && strcmp(f.site, site) != 0) same_site = false;
        }
        if (all_at_barrier && same_site && exited == 0) {
            for (Fiber& f : r.fibers) f.state = State::Ready;
            continue;
        }
        *message = describe_stuck(r, exited);
        for (Fiber& f : r.fibers) r.release(f);
        return ERROR_ILLEGAL_INSTRUCTION;
    }
}

struct sigaction g_previous[65];

void on_fault(int sig, siginfo_t* info, void* context) {
    Runner* r = tl_runner;
    if (tl_in_kernel && r != nullptr) {
        r->fault_addr = reinterpret_cast<uintptr_t>(info->si_addr);
        r->fault_signal = sig;
        r->fault_fiber = tl_fiber;
        siglongjmp(r->fault_jump, 1);
    }
    // Not ours: hand it to whoever was installed before (HotSpot uses SIGSEGV for null checks).
    const struct sigaction& prev = g_previous[sig];
    if (prev.sa_flags & SA_SIGINFO) {
        prev.sa_sigaction(sig, info, context);
    } else if (prev.sa_handler == SIG_DFL) {
        signal(sig, SIG_DFL);
        raise(sig);
    } else if (prev.sa_handler != SIG_IGN) {
        prev.sa_handler(sig);
    }
}

}  // namespace

void install_fault_handler() {
    static std::once_flag once;
    std::call_once(once, [] {
        for (int sig : {SIGSEGV, SIGBUS, SIGFPE}) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_sigaction = on_fault;
            sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESTART;
            sigemptyset(&sa.sa_mask);
            sigaction(sig, &sa, &g_previous[sig]);
        }
    });
}

Result run_launch(const LaunchSpec& l, std::string* message) {
    const size_t blocks = static_cast<size_t>(l.grid.x) * l.grid.y * l.grid.z;
    std::atomic<bool> failed{false};
    std::mutex m;
    Result first = OK;
    parallel_for(blocks, [&](size_t i) {
        if (failed.load(std::memory_order_relaxed)) return;
        std::string msg;
        Result r = run_block(tl_owner.get(), l, static_cast<unsigned>(i), &msg);
        if (r != OK) {
            std::lock_guard<std::mutex> lock(m);
            if (first == OK) {
                first = r;
                *message = msg;
            }
            failed = true;
        }
    });
    return first;
}

}  // namespace cudasim

using cudasim::tl_fiber;
using cudasim::tl_runner;

extern "C" __attribute__((visibility("default"))) const cudasim_thread* cudasim_self(void) { return &tl_fiber->self; }

extern "C" __attribute__((visibility("default"))) void* cudasim_dynamic_shared(void) { return tl_runner->shared; }

extern "C" __attribute__((visibility("default"))) void cudasim_syncthreads(const char* site) {
    cudasim::Fiber* f = tl_fiber;
    f->state = cudasim::State::AtBarrier;
    f->site = site;
    cudasim::yield_to_scheduler();
}

extern "C" __attribute__((visibility("default"))) uint64_t cudasim_warp_op(int kind, unsigned int mask, uint64_t value, int src_lane,
                                                                        const char* site) {
    cudasim::Fiber* f = tl_fiber;
    f->state = cudasim::State::AtWarp;
    f->kind = kind;
    f->mask = mask;
    f->value = value;
    f->src = src_lane;
    f->site = site;
    cudasim::yield_to_scheduler();
    return f->result;
}
