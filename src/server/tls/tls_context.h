// TLS settings shared by Meridian's listeners and its peer client: TLS 1.3 only, certificates
// and keys from PEM files, client certificates (mutual TLS) verified against the deployment CA.
//
// Configure*Context apply a config to an OpenSSL SSL_CTX that the caller owns (Asio's
// ssl::context wraps one). After they succeed the context refuses every protocol version below
// TLS 1.3, so a TLS 1.2 (or older) handshake fails in either direction.
#pragma once

#include <openssl/types.h>

#include <string>

#include "common/status.h"

namespace meridian::tls {

struct TlsServerConfig {
  std::string certificate_chain_file;  // PEM: the server certificate first, then any intermediates
  std::string private_key_file;        // PEM, unencrypted (keep it mode 0600)
  // PEM bundle of the CAs that may sign client certificates. When set, a client certificate that
  // is presented must chain to it (else the handshake fails); "" disables client certificates.
  std::string client_ca_file;
  // Mutual TLS: also refuse clients that present no certificate. Needs client_ca_file.
  bool require_client_certificate = false;
};

struct TlsClientConfig {
  std::string ca_file;  // PEM bundle the server certificate must chain to (required)
  // The client's own certificate and key, for mutual TLS; both or neither.
  std::string certificate_chain_file;
  std::string private_key_file;
};

// Errors are Status "TlsConfigError" naming the file and OpenSSL's reason.
Status ConfigureServerContext(SSL_CTX* context, const TlsServerConfig& config);
Status ConfigureClientContext(SSL_CTX* context, const TlsClientConfig& config);

// Drains this thread's OpenSSL error queue into one line ("" when it is empty).
std::string TakeOpenSslErrors();

}  // namespace meridian::tls
