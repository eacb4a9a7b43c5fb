#include "common/wake_batch.h"

namespace meridian {
namespace {

thread_local WakeBatch* current_batch = nullptr;

}  // namespace

WakeBatch::WakeBatch() : outer_(current_batch) { current_batch = this; }

WakeBatch::~WakeBatch() {
  current_batch = outer_;
  if (outer_) return;  // nested: the outermost batch holds the wakes
  for (auto& [token, wake] : wakes_) wake();
}

void WakeBatch::Wake(const void* token, std::function<void()> wake) {
  WakeBatch* batch = current_batch;
  if (!batch) return wake();
  while (batch->outer_) batch = batch->outer_;
  for (const auto& recorded : batch->wakes_)
    if (recorded.first == token) return;
  batch->wakes_.emplace_back(token, std::move(wake));
}

bool WakeBatch::Active() { return current_batch != nullptr; }

}  // namespace meridian
