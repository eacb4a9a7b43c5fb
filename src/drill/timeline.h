// Timeline: every request a DR drill's workload makes, with its outcome, so that the drill can
// show requests succeeding per interval through a failure.
//
// A Timeline is written by several workload threads at once (Record is thread-safe) and read
// once they have stopped. Times are microseconds since the Timeline was created (steady clock).
// Bucketing is a pure function of the events, so it is unit-tested without threads or clocks.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <vector>

namespace meridian::drill {

enum class Operation { kWrite, kRead };

struct TimelineEvent {
  int64_t at_us = 0;  // when the request completed, since the Timeline's epoch
  Operation operation = Operation::kWrite;
  bool ok = false;
  int64_t started_us = 0;  // when it was sent (<= at_us)
};

class Timeline {
 public:
  Timeline() : epoch_(std::chrono::steady_clock::now()) {}

  // Now, in this timeline's microseconds.
  int64_t NowUs() const;
  // A request sent at `started_us` (NowUs() then) that completed now.
  void Record(Operation operation, bool ok, int64_t started_us);
  void RecordAt(const TimelineEvent& event);
  // A copy of every event so far, sorted by time.
  std::vector<TimelineEvent> Events() const;

 private:
  const std::chrono::steady_clock::time_point epoch_;
  mutable std::mutex mu_;
  std::vector<TimelineEvent> events_;
};

// Requests completed in [start_ms, start_ms + width) relative to an origin (the failure).
struct TimelineBucket {
  int64_t start_ms = 0;
  uint32_t writes_ok = 0;
  uint32_t reads_ok = 0;
  uint32_t failed = 0;  // writes and reads
  uint32_t succeeded() const { return writes_ok + reads_ok; }
};

// Buckets `events` into `width_ms`-wide intervals aligned on `origin_us` (bucket k covers
// [origin + k*width, origin + (k+1)*width)), from the first event's bucket to the last one's,
// empty buckets included, in order. No events: no buckets. width_ms must be positive.
std::vector<TimelineBucket> BucketTimeline(const std::vector<TimelineEvent>& events, int64_t origin_us,
                                           int64_t width_ms);

// When the first `operation` sent at or after `from_us` that succeeded completed, or -1 if none
// did (a request already in flight at `from_us` does not count: it says nothing about recovery).
int64_t FirstSuccessSentAtOrAfter(const std::vector<TimelineEvent>& events, Operation operation, int64_t from_us);

// The longest run of consecutive buckets with no successful request (the outage window seen by
// the operator), in milliseconds; 0 when every bucket had a success.
int64_t LongestOutageMs(const std::vector<TimelineBucket>& buckets, int64_t width_ms);

}  // namespace meridian::drill
