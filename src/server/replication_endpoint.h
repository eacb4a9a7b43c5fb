// ReplicationEndpoint: the receiving end of peer links, served on a region's peer listener
// (mutual TLS). A batch is accepted only from a known peer region, and only if the region named
// by the client's verified certificate is the batch's source: a region cannot speak for another.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "replication/replication.h"

namespace meridian::server {

struct ReplicationReply {
  int status = 200;
  std::string body;  // the acknowledgement, or an AWS-shaped error
};

class ReplicationEndpoint {
 public:
  // What one received batch did, for the audit trail.
  struct Received {
    std::string source;  // the certificate's region ("" if none)
    uint64_t first_sequence = 0, last_sequence = 0, applied_through = 0;
    std::vector<std::string> kinds;
    int status = 200;
    std::string error;
  };
  using Observer = std::function<void(const Received&)>;

  ReplicationEndpoint(std::string local_region, replication::Inbox& inbox, std::vector<std::string> peer_regions,
                      Observer observer = {});

  // `certificate_region`: the region the TLS layer verified for the client ("" if none).
  ReplicationReply Handle(std::string_view method, std::string_view path, std::string_view body,
                          std::string_view certificate_region);

 private:
  ReplicationReply Apply(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view certificate_region, Received& received);

  const std::string local_region_;
  replication::Inbox& inbox_;
  const std::vector<std::string> peer_regions_;
  Observer observer_;
};

}  // namespace meridian::server
