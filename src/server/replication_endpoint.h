// ReplicationEndpoint: the receiving end of peer links, served on a region's peer listener
// (mutual TLS). A batch is accepted only from a known peer region, and only if the region named
// by the client's verified certificate is the batch's source: a region cannot speak for another.
#pragma once

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
  ReplicationEndpoint(std::string local_region, replication::Inbox& inbox, std::vector<std::string> peer_regions);

  // `certificate_region`: the region the TLS layer verified for the client ("" if none).
  ReplicationReply Handle(std::string_view method, std::string_view path, std::string_view body,
                          std::string_view certificate_region);

 private:
  const std::string local_region_;
  replication::Inbox& inbox_;
  const std::vector<std::string> peer_regions_;
};

}  // namespace meridian::server
