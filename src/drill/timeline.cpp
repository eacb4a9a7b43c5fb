#include "drill/timeline.h"

#include <algorithm>

namespace meridian::drill {
namespace {

// floor(a / b) for b > 0 (C++ division truncates toward zero).
int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

}  // namespace

int64_t Timeline::NowUs() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - epoch_).count();
}

void Timeline::Record(Operation operation, bool ok, int64_t started_us) {
  RecordAt({NowUs(), operation, ok, started_us});
}

void Timeline::RecordAt(const TimelineEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(event);
}

std::vector<TimelineEvent> Timeline::Events() const {
  std::vector<TimelineEvent> copy;
  {
    std::lock_guard<std::mutex> lock(mu_);
    copy = events_;
  }
  std::stable_sort(copy.begin(), copy.end(),
                   [](const TimelineEvent& a, const TimelineEvent& b) { return a.at_us < b.at_us; });
  return copy;
}

std::vector<TimelineBucket> BucketTimeline(const std::vector<TimelineEvent>& events, int64_t origin_us,
                                           int64_t width_ms) {
  std::vector<TimelineBucket> buckets;
  if (events.empty() || width_ms <= 0) return buckets;
  const int64_t width_us = width_ms * 1000;
  auto index_of = [&](int64_t at_us) { return FloorDiv(at_us - origin_us, width_us); };
  int64_t first = index_of(events.front().at_us), last = first;
  for (const auto& e : events) {
    first = std::min(first, index_of(e.at_us));
    last = std::max(last, index_of(e.at_us));
  }
  buckets.resize(static_cast<size_t>(last - first + 1));
  for (size_t i = 0; i < buckets.size(); ++i) buckets[i].start_ms = (first + static_cast<int64_t>(i)) * width_ms;
  for (const auto& e : events) {
    TimelineBucket& b = buckets[static_cast<size_t>(index_of(e.at_us) - first)];
    if (!e.ok)
      ++b.failed;
    else if (e.operation == Operation::kWrite)
      ++b.writes_ok;
    else
      ++b.reads_ok;
  }
  return buckets;
}

int64_t FirstSuccessSentAtOrAfter(const std::vector<TimelineEvent>& events, Operation operation, int64_t from_us) {
  int64_t first = -1;
  for (const auto& e : events)
    if (e.ok && e.operation == operation && e.started_us >= from_us && (first < 0 || e.at_us < first)) first = e.at_us;
  return first;
}

int64_t LongestOutageMs(const std::vector<TimelineBucket>& buckets, int64_t width_ms) {
  int64_t longest = 0, run = 0;
  for (const auto& b : buckets) {
    run = b.succeeded() == 0 ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  return longest * width_ms;
}

}  // namespace meridian::drill
