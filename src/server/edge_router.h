// EdgeRouter: one endpoint for every region of a local deployment (the LocalStack convention).
//
// Each request is forwarded, unchanged (so its SigV4 signature still verifies), to the region
// named in its credential scope (Authorization: ... Credential=AKID/20260101/<region>/...; or the
// X-Amz-Credential query parameter of a presigned request). A request for a region that is not
// part of the deployment gets an error naming the regions that are; a region that is down gets
// 503 ServiceUnavailableException (as Query XML for iam/sts requests). Unsigned requests go to
// the first region, which answers them. IAM is global: an iam request signed for us-east-1 (IAM's
// signing region at AWS) goes to the first region when us-east-1 is not deployed. IAM state is
// per region (not replicated yet): principals created through one region exist in that region.
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
  // region -> "host:port" of the region's (plaintext, loopback) client listener. `iam_region`:
  // where iam requests signed for us-east-1 go when us-east-1 is not deployed (IAM's home, the
  // first region of `up --regions`); "" for the first region by name.
  explicit EdgeRouter(std::map<std::string, std::string> regions, std::string iam_region = "");

  // An HttpHandler: forwards `request` and fills `response`.
  void Handle(const HttpRequest& request, HttpResponse& response) const;

  // The region a request is signed for, if it says.
  static std::optional<std::string> SignedRegion(const HttpRequest& request);

 private:
  std::map<std::string, std::string> regions_;
  std::string iam_region_;
};

}  // namespace meridian::server
