#include "profile_times.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <vector>
#include <algorithm>

namespace cudasim {

namespace {
struct Entry {
    uint64_t calls = 0, nanos = 0;
};
std::mutex g_mutex;
std::map<std::string, Entry>* g_entries = nullptr;

void print() {
    std::lock_guard<std::mutex> lock(g_mutex);
    std::vector<std::pair<std::string, Entry>> rows(g_entries->begin(), g_entries->end());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.second.nanos > b.second.nanos; });
    fprintf(stderr, "cudasim profile (CPU time on the simulator, not GPU time):\n%-32s %10s %12s\n", "kernel", "calls", "ms");
    for (const auto& r : rows) fprintf(stderr, "%-32s %10llu %12.1f\n", r.first.c_str(), (unsigned long long)r.second.calls, r.second.nanos / 1e6);
}
}  // namespace

bool profiling() {
    static const bool on = [] {
        const char* v = getenv("CUDASIM_PROFILE");
        if (v == nullptr || strcmp(v, "1") != 0) return false;
        g_entries = new std::map<std::string, Entry>();
        atexit(print);
        return true;
    }();
    return on;
}

void profile_add(const std::string& name, uint64_t nanos) {
    std::lock_guard<std::mutex> lock(g_mutex);
    Entry& e = (*g_entries)[name];
    e.calls++;
    e.nanos += nanos;
}

uint64_t now_nanos() {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
            std::chrono::steady_clock::now().time_since_epoch()).count());
}

}  // namespace cudasim
