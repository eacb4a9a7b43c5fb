#include "server/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

namespace meridian::tls {
namespace {

Status ConfigError(const std::string& what) {
  std::string message = what;
  if (std::string reason = TakeOpenSslErrors(); !reason.empty()) message += ": " + reason;
  return Status("TlsConfigError", std::move(message), 500);
}

Status RequireTls13(SSL_CTX* context) {
  if (SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(context, 0) != 1)
    return ConfigError("cannot restrict TLS to version 1.3");
  // TLS 1.3 has neither compression nor renegotiation; keep the defaults otherwise.
  SSL_CTX_set_options(context, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  return Status::Ok();
}

Status LoadCertificateAndKey(SSL_CTX* context, const std::string& chain_file, const std::string& key_file) {
  if (SSL_CTX_use_certificate_chain_file(context, chain_file.c_str()) != 1)
    return ConfigError("cannot load the certificate chain '" + chain_file + "'");
  if (SSL_CTX_use_PrivateKey_file(context, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(context) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
      return ConfigError("cannot load the private key '" + key_file + "'");
    ERR_clear_error();
    return ConfigError("the private key '" + key_file + "' does not match the certificate '" + chain_file + "'");
  }
  return Status::Ok();
}

Status LoadTrustedCas(SSL_CTX* context, const std::string& ca_file) {
  if (SSL_CTX_load_verify_locations(context, ca_file.c_str(), nullptr) != 1)
    return ConfigError("cannot load the CA bundle '" + ca_file + "'");
  SSL_CTX_set_verify_depth(context, 4);
  return Status::Ok();
}

}  // namespace

std::string TakeOpenSslErrors() {
  std::string out;
  while (unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out;
}

Status ConfigureServerContext(SSL_CTX* context, const TlsServerConfig& config) {
  ERR_clear_error();
  if (config.certificate_chain_file.empty() || config.private_key_file.empty())
    return ConfigError("a TLS listener needs a certificate chain file and a private key file");
  if (config.require_client_certificate && config.client_ca_file.empty())
    return ConfigError("require_client_certificate needs client_ca_file (the CA that signs client certificates)");
  MERIDIAN_RETURN_IF_ERROR(RequireTls13(context));
  MERIDIAN_RETURN_IF_ERROR(LoadCertificateAndKey(context, config.certificate_chain_file, config.private_key_file));
  if (!config.client_ca_file.empty()) {
    MERIDIAN_RETURN_IF_ERROR(LoadTrustedCas(context, config.client_ca_file));
    // The CA names sent in the CertificateRequest, so clients pick the right certificate.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(config.client_ca_file.c_str());
    if (names == nullptr) return ConfigError("cannot read CA names from '" + config.client_ca_file + "'");
    SSL_CTX_set_client_CA_list(context, names);
    // Resumed sessions keep the verified client identity; OpenSSL refuses to resume (a fatal
    // alert) when a verifying server has no session id context.
    static constexpr unsigned char kSessionContext[] = "meridian";
    if (SSL_CTX_set_session_id_context(context, kSessionContext, sizeof kSessionContext - 1) != 1)
      return ConfigError("cannot set the TLS session id context");
    int mode = SSL_VERIFY_PEER;
    if (config.require_client_certificate) mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_verify(context, mode, nullptr);
  } else {
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
  }
  return Status::Ok();
}

Status ConfigureClientContext(SSL_CTX* context, const TlsClientConfig& config) {
  ERR_clear_error();
  if (config.ca_file.empty()) return ConfigError("a TLS client needs a CA bundle to verify servers against");
  if (config.certificate_chain_file.empty() != config.private_key_file.empty())
    return ConfigError("a client certificate needs both its certificate file and its private key file");
  MERIDIAN_RETURN_IF_ERROR(RequireTls13(context));
  MERIDIAN_RETURN_IF_ERROR(LoadTrustedCas(context, config.ca_file));
  if (!config.certificate_chain_file.empty())
    MERIDIAN_RETURN_IF_ERROR(LoadCertificateAndKey(context, config.certificate_chain_file, config.private_key_file));
  SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
  return Status::Ok();
}

}  // namespace meridian::tls
