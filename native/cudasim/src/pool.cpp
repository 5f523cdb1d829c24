#include "pool.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

namespace cudasim {

namespace {

struct Job {
    const std::function<void(size_t)>* body;
    size_t n;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
    std::mutex m;
    std::condition_variable finished;
};

class Pool {
  public:
    Pool() {
        const char* env = getenv("CUDASIM_THREADS");
        threads_ = env ? atoi(env) : static_cast<int>(std::thread::hardware_concurrency());
        if (threads_ < 1) threads_ = 1;
        for (int i = 1; i < threads_; ++i) std::thread([this] { help(); }).detach();
    }

    int threads() const { return threads_; }

    void run(size_t n, const std::function<void(size_t)>& body) {
        if (n == 0) return;
        if (n == 1 || threads_ == 1) {
            for (size_t i = 0; i < n; ++i) body(i);
            return;
        }
        auto job = std::make_shared<Job>();
        job->body = &body;
        job->n = n;
        {
            std::lock_guard<std::mutex> lock(m_);
            jobs_.push_back(job);
        }
        wake_.notify_all();
        work(*job);
        std::unique_lock<std::mutex> lock(job->m);
        job->finished.wait(lock, [&] { return job->done.load() == n; });
    }

  private:
    static void work(Job& job) {
        for (;;) {
            const size_t i = job.next.fetch_add(1);
            if (i >= job.n) return;
            (*job.body)(i);
            if (job.done.fetch_add(1) + 1 == job.n) {
                std::lock_guard<std::mutex> lock(job.m);
                job.finished.notify_all();
            }
        }
    }

    void help() {
        for (;;) {
            std::shared_ptr<Job> job;
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] {
                    while (!jobs_.empty() && jobs_.front()->next.load() >= jobs_.front()->n) jobs_.pop_front();
                    return !jobs_.empty();
                });
                job = jobs_.front();
            }
            work(*job);
        }
    }

    int threads_;
    std::mutex m_;
    std::condition_variable wake_;
    std::deque<std::shared_ptr<Job>> jobs_;
};

Pool& pool() {
    static Pool* p = new Pool();  // never destroyed: helpers outlive static destruction
    return *p;
}

}  // namespace

void parallel_for(size_t n, const std::function<void(size_t)>& body) { pool().run(n, body); }

int pool_threads() { return pool().threads(); }

}  // namespace cudasim
