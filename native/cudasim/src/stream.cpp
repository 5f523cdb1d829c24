#include "stream.hpp"

#include <chrono>
#include <set>

namespace cudasim {

struct Stream {
    std::mutex m;
    std::condition_variable work, idle;
    std::deque<std::function<void()>> queue;
    bool running = false;
    bool stop = false;
    unsigned flags = 0;
    std::thread worker;
    Graph* capture = nullptr;  // non-null while captured: submissions go there

    void loop() {
        std::unique_lock<std::mutex> lock(m);
        for (;;) {
            work.wait(lock, [&] { return stop || !queue.empty(); });
            if (queue.empty()) return;
            std::function<void()> op = std::move(queue.front());
            queue.pop_front();
            running = true;
            lock.unlock();
            if (sticky_error() == OK) op();
            op = nullptr;
            lock.lock();
            running = false;
            if (queue.empty()) idle.notify_all();
        }
    }
    void drain() {
        std::unique_lock<std::mutex> lock(m);
        idle.wait(lock, [&] { return queue.empty() && !running; });
    }
};

namespace {
std::mutex g_mutex;
std::set<Stream*> g_streams;
std::set<Event*> g_events;
int g_capturing = 0;  // streams being captured

double now_ms() {
    using namespace std::chrono;
    return duration<double, std::milli>(steady_clock::now().time_since_epoch()).count();
}

bool is_default(Stream* s) {
    const uintptr_t v = reinterpret_cast<uintptr_t>(s);
    return v == 0 || v == 1 || v == 2;  // 0, CU_STREAM_LEGACY, CU_STREAM_PER_THREAD
}
}  // namespace

Stream* stream_create(unsigned flags) {
    Stream* s = new Stream();
    s->flags = flags;
    s->worker = std::thread([s] { s->loop(); });
    std::lock_guard<std::mutex> lock(g_mutex);
    g_streams.insert(s);
    return s;
}

void stream_destroy(Stream* s) {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        g_streams.erase(s);
        if (s->capture != nullptr) {  // a capture never ended: it is dropped with the stream
            delete s->capture;
            s->capture = nullptr;
            --g_capturing;
        }
    }
    s->drain();
    {
        std::lock_guard<std::mutex> lock(s->m);
        s->stop = true;
    }
    s->work.notify_all();
    s->worker.join();
    delete s;
}

bool stream_valid(Stream* s) {
    if (is_default(s)) return true;
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_streams.count(s) != 0;
}

bool event_valid(Event* e) {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_events.count(e) != 0;
}

Event* event_create(unsigned flags) {
    Event* e = new Event();
    e->flags = flags;
    std::lock_guard<std::mutex> lock(g_mutex);
    g_events.insert(e);
    return e;
}

void event_destroy(Event* e) {
    // a record still queued would touch it: wait for the streams first (the driver defers the free)
    synchronize_all();
    std::lock_guard<std::mutex> lock(g_mutex);
    g_events.erase(e);
    delete e;
}

void synchronize_all() {
    std::vector<Stream*> all;
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        all.assign(g_streams.begin(), g_streams.end());
    }
    for (Stream* s : all) s->drain();
}

void stream_submit(Stream* s, std::function<void()> op) {
    if (is_default(s)) {
        synchronize_all();
        if (sticky_error() == OK) op();
        return;
    }
    {
        std::lock_guard<std::mutex> lock(s->m);
        if (s->capture != nullptr) {
            s->capture->ops.push_back(std::move(op));
            return;
        }
        s->queue.push_back(std::move(op));
    }
    s->work.notify_one();
}

Result stream_begin_capture(Stream* s) {
    if (is_default(s)) return ERROR_STREAM_CAPTURE_UNSUPPORTED;
    std::lock_guard<std::mutex> global(g_mutex);
    std::lock_guard<std::mutex> lock(s->m);
    if (s->capture != nullptr) return ERROR_ILLEGAL_STATE;
    s->capture = new Graph();
    ++g_capturing;
    return OK;
}

Result stream_end_capture(Stream* s, Graph** graph) {
    if (is_default(s)) return ERROR_ILLEGAL_STATE;
    std::lock_guard<std::mutex> global(g_mutex);
    std::lock_guard<std::mutex> lock(s->m);
    if (s->capture == nullptr) return ERROR_ILLEGAL_STATE;
    *graph = s->capture;
    s->capture = nullptr;
    --g_capturing;
    return OK;
}

bool stream_capturing(Stream* s) {
    if (is_default(s)) return false;
    std::lock_guard<std::mutex> lock(s->m);
    return s->capture != nullptr;
}

bool any_stream_capturing() {
    std::lock_guard<std::mutex> lock(g_mutex);
    return g_capturing > 0;
}

Result stream_synchronize(Stream* s) {
    if (is_default(s)) synchronize_all();
    else s->drain();
    return sticky_error();
}

bool stream_idle(Stream* s) {
    if (is_default(s)) return true;
    std::lock_guard<std::mutex> lock(s->m);
    return s->queue.empty() && !s->running;
}

void event_record(Event* e, Stream* s) {
    uint64_t gen;
    {
        std::lock_guard<std::mutex> lock(e->m);
        gen = ++e->recorded;
    }
    stream_submit(s, [e, gen] {
        std::lock_guard<std::mutex> lock(e->m);
        if (gen > e->completed) {
            e->completed = gen;
            e->time_ms = now_ms();
        }
        e->cv.notify_all();
    });
}

void stream_wait_event(Stream* s, Event* e) {
    uint64_t target;
    {
        std::lock_guard<std::mutex> lock(e->m);
        target = e->recorded;
    }
    stream_submit(s, [e, target] {
        std::unique_lock<std::mutex> lock(e->m);
        // a fault elsewhere skips the record this waits for: poll the sticky error too
        while (!e->cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return e->completed >= target || sticky_error() != OK; })) {}
    });
}

Result event_synchronize(Event* e) {
    std::unique_lock<std::mutex> lock(e->m);
    const uint64_t target = e->recorded;
    while (!e->cv.wait_for(lock, std::chrono::milliseconds(10), [&] { return e->completed >= target || sticky_error() != OK; })) {}
    return sticky_error();
}

bool event_done(Event* e) {
    std::lock_guard<std::mutex> lock(e->m);
    return e->completed >= e->recorded;
}

}  // namespace cudasim
