// Wall-clock time as the services see it. Injectable so tests can move time (key deletion,
// rotation, SigV4 skew) without sleeping.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace meridian {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMillis() const = 0;  // milliseconds since the Unix epoch
  int64_t NowSeconds() const { return NowMillis() / 1000; }
};

class SystemClock final : public Clock {
 public:
  int64_t NowMillis() const override {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const SystemClock& Instance() {
    static const SystemClock clock;
    return clock;
  }
};

// A clock tests set by hand.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t millis = 0) : now_(millis) {}
  int64_t NowMillis() const override { return now_.load(); }
  void Set(int64_t millis) { now_.store(millis); }
  void Advance(int64_t millis) { now_.fetch_add(millis); }

 private:
  std::atomic<int64_t> now_;
};

// "20150830T123600Z" for epoch seconds (UTC).
std::string FormatAmzDate(int64_t epoch_seconds);
// ISO 8601 "2015-08-30T12:36:00Z".
std::string FormatIso8601(int64_t epoch_seconds);
// Parses "20150830T123600Z"; returns false when malformed.
bool ParseAmzDate(const std::string& text, int64_t& epoch_seconds);

}  // namespace meridian
