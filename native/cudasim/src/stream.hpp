// stream.hpp: asynchronous streams and events. Each created stream has its own worker thread that
// runs the stream's operations in order; streams run concurrently with each other and with the
// host, so a missing cuStreamWaitEvent or synchronisation can give a wrong result, as on a GPU.
// The legacy default stream (handle 0) is implicitly synchronous with every other stream: its
// operations wait for all queued work, then run on the calling thread.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "common.hpp"

namespace cudasim {

struct Stream;

struct Event {
    std::mutex m;
    std::condition_variable cv;
    uint64_t recorded = 0;   // generation of the latest cuEventRecord
    uint64_t completed = 0;  // generation the stream has reached
    double time_ms = 0;      // host steady clock when completed
    unsigned flags = 0;
};

// A captured stream's operations (cuStreamBeginCapture .. cuStreamEndCapture), in order: what
// cuGraphLaunch queues on a stream again, each time. Only single-stream captures are supported
// (events, synchronisation and legacy-stream work during a capture are refused).
struct Graph {
    std::vector<std::function<void()>> ops;
};

Stream* stream_create(unsigned flags);
void stream_destroy(Stream* s);        // waits for its work first
bool stream_valid(Stream* s);          // null (the default stream) is valid
bool event_valid(Event* e);
Event* event_create(unsigned flags);
void event_destroy(Event* e);

// Queues op on s (or, for the default stream, drains every stream and runs op now; or, while s is
// being captured, appends it to the capture). Operations are skipped once the context has a sticky error.
void stream_submit(Stream* s, std::function<void()> op);
Result stream_begin_capture(Stream* s);
Result stream_end_capture(Stream* s, Graph** graph);  // a new graph owned by the caller
bool stream_capturing(Stream* s);
bool any_stream_capturing();
Result stream_synchronize(Stream* s);
bool stream_idle(Stream* s);
void synchronize_all();

void event_record(Event* e, Stream* s);
void stream_wait_event(Stream* s, Event* e);
Result event_synchronize(Event* e);
bool event_done(Event* e);

}  // namespace cudasim
