// MutualTlsTransport: how one region POSTs to a peer region (replication::Transport over HTTPS).
//
// Every connection is TLS 1.3 with this region's certificate as the client certificate. The
// server's certificate must chain to the deployment CA AND name the expected peer region in its
// URI SAN "meridian:region:<peer>" (server/tls/identity.h); otherwise the connection is dropped
// before anything is sent ("PeerIdentityMismatch"). Host names are not what identifies a peer:
// the region name is, so a peer reached by any address is accepted only as itself.
//
// One connection is kept alive between posts. A post on a reused connection that fails before
// any response byte arrived (the server closed it while idle) is retried once on a new
// connection; callers must therefore be idempotent (the replication inbox skips duplicates).
// Connect and handshake are bounded by connect_timeout, each request/response by io_timeout.
//
// Thread-safe: concurrent posts are serialized on the one connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "replication/peer_link.h"
#include "server/tls/tls_context.h"

namespace meridian::server {

struct MutualTlsTransportOptions {
  std::string host = "127.0.0.1";  // the peer's listener (a name is resolved; also sent as SNI)
  uint16_t port = 0;
  std::string peer_region;  // the region the server's certificate must name
  // The deployment CA bundle, and this region's certificate and key (required: mutual TLS).
  tls::TlsClientConfig tls;
  std::chrono::milliseconds connect_timeout = std::chrono::seconds(3);  // TCP connect + TLS handshake
  std::chrono::milliseconds io_timeout = std::chrono::seconds(10);      // one request and its response
  size_t max_response_bytes = 64 * 1024 * 1024;
};

class MutualTlsTransport final : public replication::Transport {
 public:
  // Fails ("TlsConfigError") when the files cannot be loaded or no client certificate is given,
  // ("ValidationException") for an invalid peer region or port. Does not connect yet.
  static Result<std::unique_ptr<MutualTlsTransport>> Create(MutualTlsTransportOptions options);
  ~MutualTlsTransport() override;

  // POSTs `body` (Content-Type: application/json) to `path` and returns the 2xx response body.
  // Errors: "PeerUnavailable" (503) when the peer cannot be reached, times out or drops the
  // connection; "PeerIdentityMismatch" (403) for a certificate naming another region; for a
  // non-2xx answer, the peer's AWS-style error (__type, message, status) when it sent one, else
  // "PeerHttpError" with the peer's status.
  Result<std::string> Post(std::string_view path, std::string_view body) override;

  // Connections opened so far (for tests and metrics: 1 while keep-alive holds).
  uint64_t connections_opened() const;

 private:
  class Impl;
  explicit MutualTlsTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace meridian::server
