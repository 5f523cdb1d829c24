#include "kernels.hpp"

#include "common.hpp"

#include <dlfcn.h>

#include <map>
#include <memory>
#include <mutex>

namespace cudasim {

namespace {
std::mutex g_mutex;
std::map<std::string, std::unique_ptr<KernelInfo>>& registry() {
    static auto* r = new std::map<std::string, std::unique_ptr<KernelInfo>>();
    return *r;
}

std::string own_directory() {
    Dl_info info;
    if (dladdr(reinterpret_cast<void*>(&own_directory), &info) == 0 || info.dli_fname == nullptr) return ".";
    std::string path = info.dli_fname;
    const size_t slash = path.rfind('/');
    return slash == std::string::npos ? "." : path.substr(0, slash);
}
}  // namespace

bool load_kernel_libraries() {
    const char* env = getenv("CUDASIM_KERNELS");
    const std::string list = env && *env ? env : own_directory() + "/libcudasim-kernels.so";
    size_t start = 0;
    while (start <= list.size()) {
        size_t end = list.find(':', start);
        if (end == std::string::npos) end = list.size();
        const std::string path = list.substr(start, end - start);
        if (!path.empty() && dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL) == nullptr) {
            log("cannot load the CPU kernel library %s: %s", path.c_str(), dlerror());
            return false;
        }
        start = end + 1;
    }
    return true;
}

const KernelInfo* find_kernel(const std::string& name) {
    std::lock_guard<std::mutex> lock(g_mutex);
    auto it = registry().find(name);
    return it == registry().end() ? nullptr : it->second.get();
}

}  // namespace cudasim

extern "C" __attribute__((visibility("default"))) void cudasim_register_kernel(
        const char* name, cudasim_invoker invoke, void* kernel, int n_params, const uint32_t* param_sizes,
        const uint8_t* param_is_pointer) {
    auto info = std::make_unique<cudasim::KernelInfo>();
    info->name = name;
    info->invoke = invoke;
    info->fn = kernel;
    info->param_sizes.assign(param_sizes, param_sizes + n_params);
    info->param_is_pointer.assign(param_is_pointer, param_is_pointer + n_params);
    std::lock_guard<std::mutex> lock(cudasim::g_mutex);
    cudasim::registry()[name] = std::move(info);
}
