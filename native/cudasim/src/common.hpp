// common.hpp: what every part of the simulated driver shares: CUresult codes, the context's sticky
// error, and the one-line diagnostics the simulator prints to stderr (prefix "cudasim: ").
#pragma once
#include <atomic>
#include <cstdarg>
#include <cstdint>
#include <string>

namespace cudasim {

// CUresult values used here (cuda.h; ABI-stable).
enum Result : int {
    OK = 0,
    ERROR_INVALID_VALUE = 1,
    ERROR_OUT_OF_MEMORY = 2,
    ERROR_NOT_INITIALIZED = 3,
    ERROR_NO_DEVICE = 100,
    ERROR_INVALID_DEVICE = 101,
    ERROR_NO_BINARY_FOR_GPU = 209,
    ERROR_INVALID_IMAGE = 200,
    ERROR_INVALID_CONTEXT = 201,
    ERROR_INVALID_HANDLE = 400,
    ERROR_ILLEGAL_STATE = 401,
    ERROR_NOT_FOUND = 500,
    ERROR_NOT_READY = 600,
    ERROR_ILLEGAL_ADDRESS = 700,
    ERROR_LAUNCH_OUT_OF_RESOURCES = 701,
    ERROR_ILLEGAL_INSTRUCTION = 715,
    ERROR_NOT_SUPPORTED = 801,
    ERROR_STREAM_CAPTURE_UNSUPPORTED = 900,
    ERROR_STREAM_CAPTURE_IMPLICIT = 906,
};

// printf-style line on stderr, prefixed "cudasim: ".
void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// A kernel fault poisons the context, as on a GPU: every later call returns the same error.
Result sticky_error();
void set_sticky_error(Result code, const std::string& message);

}  // namespace cudasim
