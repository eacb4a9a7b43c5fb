// Verifies AWS Signature Version 4 on incoming requests (the server side).
//
// Accepts the Authorization-header form and the presigned query-string form. On success returns
// the authenticated Caller; on failure an AWS-shaped Status whose type is the error name AWS
// uses (MissingAuthenticationTokenException, IncompleteSignatureException,
// UnrecognizedClientException, InvalidSignatureException, ExpiredTokenException) and whose
// message says what is wrong.
//
// Checks, in order: an auth mechanism is present and well formed; the credential scope's date
// matches X-Amz-Date, its terminator is aws4_request, its region is the server's and its service
// one of the expected; host (and x-amz-date in the header form) are signed; the request time is
// within 5 minutes of now (presigned: not before X-Amz-Date - 5 min, not after
// X-Amz-Date + X-Amz-Expires); the access key is known; the session token matches the one the
// credential was issued with; temporary credentials have not expired; X-Amz-Content-Sha256, if
// sent, is the body's hash; the signature matches (constant-time compare).
//
// Thread-safe. Derived signing keys are cached per (access key, date, region, service), bounded.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "crypto/crypto.h"
#include "sigv4/request.h"
#include "sigv4/signing_key.h"

namespace meridian::sigv4 {

// What the credential store knows about an access key. Immutable once shared.
struct CredentialRecord {
  std::string access_key_id;
  crypto::SecureBytes secret_access_key;
  std::optional<std::string> session_token;  // set for temporary (STS) credentials
  std::string account_id;
  std::string principal_arn;
  std::optional<int64_t> expires_at;  // epoch seconds; temporary credentials only
  // CloudTrail's userIdentity.principalId: "AIDA..." (IAM user, also its GetSessionToken
  // sessions), "AROA...:<session name>" (assumed role), the account id (root); empty if unknown.
  std::string principal_id;
};

// Returns the record for an access key id, or nullptr when the key is unknown. Called on every
// verification, from any thread: keep it cheap (return a cached shared_ptr).
using CredentialLookup =
    std::function<std::shared_ptr<const CredentialRecord>(std::string_view access_key_id)>;

// The authenticated caller.
struct Caller {
  std::shared_ptr<const CredentialRecord> credential;
  std::string region;   // from the credential scope
  std::string service;  // from the credential scope (one of the expected services)
  bool has_session_token = false;
  bool presigned = false;
  int64_t signed_at = 0;  // X-Amz-Date, epoch seconds

  const std::string& access_key_id() const { return credential->access_key_id; }
  const std::string& account_id() const { return credential->account_id; }
  const std::string& principal_arn() const { return credential->principal_arn; }
};

struct VerifierOptions {
  std::string region;                 // the server's region, e.g. "us-east-1"
  std::vector<std::string> services;  // accepted scope services, e.g. {"kms"}
  PathMode path_mode = PathMode::kNormalize;
  int64_t max_clock_skew_seconds = 300;
  size_t signing_key_cache_capacity = 4096;
};

// What a request claims about its credential, without verifying anything: for routing (the edge
// endpoint picks the region) and for the audit trail of requests that fail authentication.
struct ClaimedCredential {
  std::string access_key_id;
  std::string region;
  std::string service;
};
std::optional<ClaimedCredential> ClaimedCredentialOf(const RequestView& request);

class Verifier {
 public:
  // `clock` must outlive the Verifier.
  Verifier(VerifierOptions options, CredentialLookup lookup, const Clock& clock);

  Result<Caller> Verify(const RequestView& request) const;

  const SigningKeyCache& key_cache() const { return key_cache_; }

 private:
  VerifierOptions options_;
  CredentialLookup lookup_;
  const Clock& clock_;
  mutable SigningKeyCache key_cache_;
};

}  // namespace meridian::sigv4
