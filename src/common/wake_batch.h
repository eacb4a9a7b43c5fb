// WakeBatch: lets a thread that completes many requests at once (the audit log's writer, which
// releases a whole group commit) wake each waiting event loop once per batch instead of once per
// request.
//
// A component that hands work to another thread (e.g. HttpListener posting a response to a
// connection's I/O thread) calls WakeBatch::Wake(token, wake) where it would otherwise wake that
// thread directly. With no WakeBatch alive on the calling thread, `wake` runs at once. While a
// WakeBatch is alive on the calling thread, `wake` is recorded instead (once per distinct token:
// later calls with a token already recorded are dropped, so callers must make a recorded wake
// cover everything handed over since) and the WakeBatch's destructor runs every recorded wake,
// in the order first recorded.
//
// Invariants: a WakeBatch belongs to the thread that created it (create and destroy it on one
// thread, as a local variable); batches may nest, the outermost one runs the wakes. `wake` must
// not throw (it is run from a destructor) and must not create a WakeBatch itself. Tokens are
// compared by address only and never dereferenced.
#pragma once

#include <functional>
#include <utility>
#include <vector>

namespace meridian {

class WakeBatch {
 public:
  WakeBatch();
  ~WakeBatch();  // runs the recorded wakes (outermost batch only)
  WakeBatch(const WakeBatch&) = delete;
  WakeBatch& operator=(const WakeBatch&) = delete;

  // Runs `wake` now, or records it in this thread's batch (see above).
  static void Wake(const void* token, std::function<void()> wake);
  // Whether a WakeBatch is alive on this thread.
  static bool Active();

 private:
  WakeBatch* outer_;
  std::vector<std::pair<const void*, std::function<void()>>> wakes_;  // outermost batch only
};

}  // namespace meridian
