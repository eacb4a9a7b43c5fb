// InProcessTransport: delivers batches straight to another Inbox in the same process, for tests
// of replication semantics without a network. It can be cut (a partition) and can lose
// acknowledgements after applying (a timeout). Region processes use the mutual-TLS transport.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "replication/peer_link.h"
#include "replication/replication.h"

namespace meridian::replication {

class InProcessTransport final : public Transport {
 public:
  explicit InProcessTransport(Inbox& inbox) : inbox_(inbox) {}

  std::atomic<bool> partitioned{false};
  std::atomic<bool> lose_ack{false};
  std::atomic<int> calls{0};

  Result<std::string> Post(std::string_view path, std::string_view body) override {
    calls++;
    if (partitioned) return Status("ConnectionRefused", "peer unreachable (partitioned)", 503);
    if (path != kReplicationPath) return Status("NotFound", "no such path", 404);
    std::string source;
    std::vector<WireEntry> entries;
    MERIDIAN_RETURN_IF_ERROR(DecodeBatch(body, source, entries));
    MERIDIAN_ASSIGN_OR_RETURN(uint64_t applied, inbox_.Apply(source, entries));
    if (lose_ack) return Status("Timeout", "acknowledgement lost", 504);
    return EncodeAck(applied);
  }

 private:
  Inbox& inbox_;
};

}  // namespace meridian::replication
