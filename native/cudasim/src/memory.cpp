#include "memory.hpp"

#include "common.hpp"
#include "profile.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <mutex>
#include <shared_mutex>

namespace cudasim {

namespace {

struct Mapping {
    Allocation alloc;
    uintptr_t map_base;
    size_t map_len;
};

std::shared_mutex g_mutex;
std::map<uintptr_t, Mapping> g_by_base;  // keyed by allocation base
size_t g_device_used = 0;

size_t page() {
    static const size_t p = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    return p;
}

size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

bool poison_enabled() {
    static const bool on = [] {
        const char* v = getenv("CUDASIM_POISON");
        return v == nullptr || strcmp(v, "0") != 0;
    }();
    return on;
}

}  // namespace

uintptr_t mem_alloc(size_t bytes, MemKind kind, bool* oom) {
    *oom = false;
    const size_t used = round_up(bytes == 0 ? 1 : bytes, 256);
    if (kind == MemKind::Device) {
        std::unique_lock<std::shared_mutex> lock(g_mutex);
        const size_t accounted = round_up(used, 512);
        if (accounted > device_profile().memory_bytes - g_device_used) {
            *oom = true;
            return 0;
        }
        g_device_used += accounted;
    }
    const size_t data_len = round_up(used, page());
    const size_t map_len = data_len + 2 * page();
    void* m = mmap(nullptr, map_len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED || mprotect(static_cast<char*>(m) + page(), data_len, PROT_READ | PROT_WRITE) != 0) {
        if (m != MAP_FAILED) munmap(m, map_len);
        if (kind == MemKind::Device) {
            std::unique_lock<std::shared_mutex> lock(g_mutex);
            g_device_used -= round_up(used, 512);
        }
        *oom = true;
        return 0;
    }
    // the end of the 256-byte-rounded block touches the upper guard page
    const uintptr_t base = reinterpret_cast<uintptr_t>(m) + page() + data_len - used;
    if (kind == MemKind::Device && poison_enabled()) memset(reinterpret_cast<void*>(base), 0xFF, used);
    std::unique_lock<std::shared_mutex> lock(g_mutex);
    g_by_base[base] = Mapping{Allocation{base, bytes, kind}, reinterpret_cast<uintptr_t>(m), map_len};
    return base;
}

bool mem_free(uintptr_t addr, MemKind kind) {
    Mapping mapping;
    {
        std::unique_lock<std::shared_mutex> lock(g_mutex);
        auto it = g_by_base.find(addr);
        if (it == g_by_base.end() || it->second.alloc.kind != kind) return false;
        mapping = it->second;
        g_by_base.erase(it);
        if (kind == MemKind::Device) g_device_used -= round_up(round_up(mapping.alloc.size == 0 ? 1 : mapping.alloc.size, 256), 512);
    }
    munmap(reinterpret_cast<void*>(mapping.map_base), mapping.map_len);
    return true;
}

bool mem_find(uintptr_t addr, size_t bytes, Allocation* out) {
    std::shared_lock<std::shared_mutex> lock(g_mutex);
    auto it = g_by_base.upper_bound(addr);
    if (it == g_by_base.begin()) return false;
    --it;
    const Allocation& a = it->second.alloc;
    if (addr < a.base || addr - a.base > a.size || bytes > a.size - (addr - a.base)) return false;
    if (out) *out = a;
    return true;
}

bool mem_guard_of(uintptr_t addr, Allocation* out, bool* after_end) {
    std::shared_lock<std::shared_mutex> lock(g_mutex);
    for (const auto& entry : g_by_base) {
        const Mapping& m = entry.second;
        if (addr >= m.map_base && addr < m.map_base + page()) {
            *out = m.alloc;
            *after_end = false;
            return true;
        }
        if (addr >= m.map_base + m.map_len - page() && addr < m.map_base + m.map_len) {
            *out = m.alloc;
            *after_end = true;
            return true;
        }
    }
    return false;
}

size_t mem_device_used() {
    std::shared_lock<std::shared_mutex> lock(g_mutex);
    return g_device_used;
}

std::string describe(const Allocation& a) {
    return format("%s allocation 0x%lx of %zu bytes", a.kind == MemKind::Device ? "device" : "pinned host",
                  static_cast<unsigned long>(a.base), a.size);
}

}  // namespace cudasim
