// BackgroundHasher: feeds a SignatureHasher on a second thread so that hashing the message for
// its ECDSA signature overlaps with AES-GCM on the calling thread (suites 0x0214 ... 0x0578).
//
// Submitted views must stay valid and unmodified until Drain() returns; adjacent views are
// coalesced, so submitting consecutive frames of one buffer costs one hand-off. The destructor
// drains and joins.
#pragma once

#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "common/bytes.h"
#include "sdk/ecdsa.h"

namespace meridian::sdk {

class BackgroundHasher {
 public:
  explicit BackgroundHasher(SignatureHasher& hasher);
  ~BackgroundHasher();
  BackgroundHasher(const BackgroundHasher&) = delete;
  BackgroundHasher& operator=(const BackgroundHasher&) = delete;

  void Submit(ByteView data);
  // Returns once every submitted byte has been hashed.
  void Drain();

  // Inputs at least this large are worth a second thread.
  static constexpr size_t kMinParallelBytes = size_t{1} << 20;

 private:
  void Run();

  SignatureHasher& hasher_;
  std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable idle_cv_;
  std::vector<ByteView> queue_;
  bool busy_ = false;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace meridian::sdk
