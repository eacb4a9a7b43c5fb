// A minimal HTTP/1.1 client for the SDK's KMS calls: one POST per connection, plain TCP for
// http:// endpoints and TLS (OpenSSL, peer verification on, system trust store or a CA file)
// for https:// endpoints. Synchronous; safe to call from several threads at once.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace meridian::sdk {

struct HttpEndpoint {
  bool tls = false;
  std::string host;
  std::string port;  // "80" / "443" by default
  std::string base_path;  // usually "/"
  // The Host header value ("host" or "host:port" for a non-default port).
  std::string HostHeader() const;
  // Parses "http://host[:port][/path]" or "https://...".
  static Result<HttpEndpoint> Parse(const std::string& url);
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

struct HttpOptions {
  std::chrono::milliseconds timeout{10000};
  std::string ca_file;  // extra trust anchor for https (e.g. a deployment CA); empty: system store
};

Result<HttpResponse> HttpPost(const HttpEndpoint& endpoint, const std::string& path,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body, const HttpOptions& options = {});

}  // namespace meridian::sdk
