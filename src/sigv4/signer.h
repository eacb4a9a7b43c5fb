// Signs requests with AWS Signature Version 4, in the Authorization-header form and the
// presigned (query-string) form. Used by client code: the SDK's KMS client, tests, benchmarks.
//
// Every header of the request is signed except hop-by-hop and volatile ones (authorization,
// connection, expect, transfer-encoding, upgrade, user-agent, x-amzn-trace-id). The request must
// carry a Host header. A Signer is immutable after construction and safe to share across threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "crypto/crypto.h"
#include "sigv4/request.h"
#include "sigv4/signing_key.h"

namespace meridian::sigv4 {

struct Credentials {
  std::string access_key_id;
  crypto::SecureBytes secret_access_key;
  std::string session_token;  // empty for long-term credentials

  static Credentials Make(std::string_view access_key_id, std::string_view secret_access_key,
                          std::string_view session_token = {});
};

struct SigningOptions {
  PathMode path_mode = PathMode::kNormalize;
  // Add an X-Amz-Content-Sha256 header carrying the payload hash, and sign it (header form).
  bool add_content_sha256_header = false;
  // With a session token: true signs X-Amz-Security-Token; false adds it after signing (the
  // "post-sts-header-after" variant some services expect).
  bool sign_session_token = true;
};

// The result of signing, with the intermediate strings (for tests and diagnostics).
struct SignedRequest {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lower-case hex
  // Header form: headers to add to the request, in this order (X-Amz-Security-Token,
  // X-Amz-Date, X-Amz-Content-Sha256 when asked for, Authorization).
  std::vector<std::pair<std::string, std::string>> headers_to_add;
  // Presigned form: the complete query string to send (the request's own parameters, then
  // X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders, X-Amz-Expires,
  // X-Amz-Security-Token when present, X-Amz-Signature).
  std::string query;
};

class Signer {
 public:
  Signer(Credentials credentials, std::string region, std::string service);

  const std::string& region() const { return region_; }
  const std::string& service() const { return service_; }

  // Header form. `epoch_seconds` is the signing time; if the request already has X-Amz-Date it
  // must equal that time. Fails (ValidationException) on a request without Host.
  Result<SignedRequest> Sign(const RequestView& request, int64_t epoch_seconds,
                             const SigningOptions& options = {}) const;

  // Query form, valid for `expires_seconds` (1..604800) from `epoch_seconds`.
  Result<SignedRequest> Presign(const RequestView& request, int64_t epoch_seconds,
                                int64_t expires_seconds, const SigningOptions& options = {}) const;

 private:
  std::string Scope(std::string_view date) const;
  std::string SignatureHex(std::string_view date, std::string_view string_to_sign) const;

  Credentials credentials_;
  std::string region_;
  std::string service_;
  mutable SigningKeyCache key_cache_{16};
};

}  // namespace meridian::sigv4
