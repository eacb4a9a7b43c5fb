// PeerLink: delivers one peer's outbox, in order, until it is acknowledged.
//
// A thread per link takes the oldest entries of the peer's outbox, expands them (the service's
// Expander may add secret material, read from this region's wrapped store, to the wire payload),
// POSTs the batch to the peer through the Transport, and acknowledges what the peer reports as
// applied. Failures back off exponentially (100 ms .. 5 s) and retry forever: a peer that was
// down or partitioned catches up when it returns, with nothing lost or applied twice (the
// receiver's Inbox skips duplicates). Wake() shortens the wait after a local enqueue.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/clock.h"
#include "common/status.h"
#include "replication/replication.h"

namespace meridian::replication {

// Sends one request to the peer and returns the response body; an error Status for transport
// failures and non-2xx answers. Implementations: HTTP over mutual TLS between regions.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<std::string> Post(std::string_view path, std::string_view body) = 0;
};

// Produces the wire payload for an outbox message (default: the payload as stored).
using Expander = std::function<Result<std::string>(const Message& message)>;

inline constexpr std::string_view kReplicationPath = "/_meridian/replication/v1";

struct PeerLinkState {
  std::string peer;
  bool connected = false;          // the last delivery attempt succeeded
  uint64_t pending = 0;            // entries not yet acknowledged
  uint64_t acknowledged = 0;       // highest sequence the peer has applied
  int64_t lag_ms = 0;              // age of the oldest pending entry (0 when none)
  uint64_t delivered_entries = 0;  // since start
  uint64_t failures = 0;           // since start
  std::string last_error;
};

// One delivery attempt, for the audit trail: which entries went to which peer, and the outcome.
struct DeliveryReport {
  std::string peer;
  uint64_t first_sequence = 0, last_sequence = 0;
  uint64_t applied_through = 0;  // what the peer acknowledged (0 on failure)
  std::vector<std::string> kinds;  // distinct message kinds in the batch
  Status status;
};
using DeliveryObserver = std::function<void(const DeliveryReport&)>;

class PeerLink {
 public:
  PeerLink(std::string local_region, std::string peer_region, Outbox& outbox, std::unique_ptr<Transport> transport,
           std::map<std::string, Expander, std::less<>> expanders, const Clock& clock = SystemClock::Instance());

  // Called (on the link's thread) after every delivery attempt that carried entries.
  void SetObserver(DeliveryObserver observer) { observer_ = std::move(observer); }
  // Delivers only while `gate` answers true (checked before every round; e.g. "this frontend is
  // the region's leader", storage/leadership.h, so one frontend of a region delivers its
  // outbox). Set before Start().
  void SetDeliveryGate(std::function<bool()> gate) { gate_ = std::move(gate); }
  ~PeerLink();  // Stop()s

  void Start();
  void Stop();
  void Wake();
  PeerLinkState State() const;

 private:
  void Run();
  // One delivery round; returns true if anything was delivered.
  Result<bool> DeliverOnce();

  const std::string local_region_, peer_region_;
  Outbox& outbox_;
  std::unique_ptr<Transport> transport_;
  std::map<std::string, Expander, std::less<>> expanders_;  // by kind prefix
  const Clock& clock_;
  DeliveryObserver observer_;
  std::function<bool()> gate_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool woken_ = false;
  PeerLinkState state_;
  std::thread thread_;
};

}  // namespace meridian::replication
