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
// Forwarding uses per-thread keep-alive connections: plain HTTP to loopback region listeners, or,
// after UseTls(), TLS 1.3 to TLS listeners whose certificate chains to the deployment CA and names
// the target region (a region process cannot answer for another).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "server/http_listener.h"
#include "server/tls/tls_context.h"

namespace boost::asio::ssl {
class context;
}

namespace meridian::server {

class EdgeRouter {
 public:
  // region -> "host:port" of the region's client listener (plaintext on loopback, or TLS). `iam_region`:
  // where iam requests signed for us-east-1 go when us-east-1 is not deployed (IAM's home, the
  // first region of `up --regions`); "" for the first region by name.
  explicit EdgeRouter(std::map<std::string, std::string> regions, std::string iam_region = "");
  ~EdgeRouter();

  // Forward over TLS, trusting config.ca_file (the deployment CA). Call before Handle().
  Status UseTls(const tls::TlsClientConfig& config);

  // An HttpHandler: forwards `request` and fills `response`.
  void Handle(const HttpRequest& request, HttpResponse& response) const;

  // The region a request is signed for, if it says.
  static std::optional<std::string> SignedRegion(const HttpRequest& request);

 private:
  std::map<std::string, std::string> regions_;
  std::string iam_region_;
  std::unique_ptr<boost::asio::ssl::context> tls_;  // null: plaintext forwarding
};

}  // namespace meridian::server
