// pool.hpp: the simulator's CPU workers. parallel_for runs body(i) for i in [0, n) on the calling
// thread and on the pool's helpers (one per core beyond the first), and returns when all are done.
// Several streams may call it at once; each caller also works on its own job, so none waits idle.
#pragma once
#include <cstddef>
#include <functional>

namespace cudasim {

void parallel_for(size_t n, const std::function<void(size_t)>& body);
// Number of threads parallel_for may use (CUDASIM_THREADS, default: the cores).
int pool_threads();

}  // namespace cudasim
