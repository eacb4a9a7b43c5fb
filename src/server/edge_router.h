// EdgeRouter: one endpoint for every region of a local deployment (the LocalStack convention).
//
// Each request is forwarded, unchanged (so its SigV4 signature still verifies), to the region
// named in its credential scope (Authorization: ... Credential=AKID/20260101/<region>/...; or the
// X-Amz-Credential query parameter of a presigned request). A request for a region that is not
// part of the deployment gets an error naming the regions that are; a region that is down gets
// 503 ServiceUnavailableException. Unsigned requests go to the first region, which answers them.
//
// Forwarding is plain HTTP to loopback region listeners with per-thread keep-alive connections.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "server/http_listener.h"

namespace meridian::server {

class EdgeRouter {
 public:
  // region -> "host:port" of the region's (plaintext, loopback) client listener.
  explicit EdgeRouter(std::map<std::string, std::string> regions);

  // An HttpHandler: forwards `request` and fills `response`.
  void Handle(const HttpRequest& request, HttpResponse& response) const;

  // The region a request is signed for, if it says.
  static std::optional<std::string> SignedRegion(const HttpRequest& request);

 private:
  std::map<std::string, std::string> regions_;
};

}  // namespace meridian::server
