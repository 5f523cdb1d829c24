#include "common.hpp"

#include <cstdio>
#include <mutex>

namespace cudasim {

void log(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "cudasim: %s\n", buf);
}

std::string format(const char* fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

static std::atomic<int> g_sticky{OK};
static std::mutex g_sticky_mutex;

Result sticky_error() { return static_cast<Result>(g_sticky.load(std::memory_order_acquire)); }

void set_sticky_error(Result code, const std::string& message) {
    std::lock_guard<std::mutex> lock(g_sticky_mutex);
    if (g_sticky.load() != OK) return;  // the first fault is the one a GPU reports
    log("%s (error %d; the context is now unusable, as on a GPU)", message.c_str(), code);
    g_sticky.store(code, std::memory_order_release);
}

}  // namespace cudasim
