#include "sdk/background_hasher.h"

namespace meridian::sdk {

BackgroundHasher::BackgroundHasher(SignatureHasher& hasher) : hasher_(hasher), thread_([this] { Run(); }) {}

BackgroundHasher::~BackgroundHasher() {
  {
    std::unique_lock lock(mu_);
    idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
    stop_ = true;
  }
  work_cv_.notify_one();
  thread_.join();
}

void BackgroundHasher::Submit(ByteView data) {
  if (data.empty()) return;
  bool wake;
  {
    std::lock_guard lock(mu_);
    if (!queue_.empty() && queue_.back().data() + queue_.back().size() == data.data()) {
      queue_.back() = ByteView(queue_.back().data(), queue_.back().size() + data.size());
      return;  // the worker will pick up the extended span
    }
    wake = queue_.empty();
    queue_.push_back(data);
  }
  if (wake) work_cv_.notify_one();
}

void BackgroundHasher::Drain() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
}

void BackgroundHasher::Run() {
  std::unique_lock lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty() && stop_) return;
    // Hash at most 256 KiB per hand-off so a span still being extended is picked up promptly.
    ByteView span = queue_.front();
    constexpr size_t kSlice = size_t{256} << 10;
    ByteView piece = span.first(std::min(kSlice, span.size()));
    if (piece.size() == span.size()) {
      queue_.erase(queue_.begin());
    } else {
      queue_.front() = span.subspan(piece.size());
    }
    busy_ = true;
    lock.unlock();
    hasher_.Update(piece);
    lock.lock();
    busy_ = false;
    if (queue_.empty()) idle_cv_.notify_all();
  }
}

}  // namespace meridian::sdk
