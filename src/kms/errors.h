// The KMS service's errors, with AWS's names, HTTP status codes and messages.
#pragma once

#include <string>

#include "common/status.h"

namespace meridian::kms {

namespace err {
inline Status NotFound(std::string m) { return {"NotFoundException", std::move(m), 400}; }
inline Status Disabled(std::string m) { return {"DisabledException", std::move(m), 400}; }
inline Status InvalidState(std::string m) { return {"KMSInvalidStateException", std::move(m), 400}; }
inline Status InvalidCiphertext() {
  return {"InvalidCiphertextException",
          "The ciphertext is invalid, was altered, or was encrypted with a different encryption context.", 400};
}
inline Status IncorrectKey() {
  return {"IncorrectKeyException",
          "The key ID in the request does not identify the KMS key that encrypted the ciphertext.", 400};
}
inline Status AlreadyExists(std::string m) { return {"AlreadyExistsException", std::move(m), 400}; }
inline Status InvalidMarker() { return {"InvalidMarkerException", "The marker is not valid for this request.", 400}; }
inline Status Tag(std::string m) { return {"TagException", std::move(m), 400}; }
inline Status MalformedPolicy(std::string m) { return {"MalformedPolicyDocumentException", std::move(m), 400}; }
inline Status Unsupported(std::string m) { return {"UnsupportedOperationException", std::move(m), 400}; }
inline Status LimitExceeded(std::string m) { return {"LimitExceededException", std::move(m), 400}; }
inline Status InvalidGrantToken() {
  return {"InvalidGrantTokenException", "The grant token is not valid.", 400};
}
inline Status InvalidGrantId(std::string m) { return {"InvalidGrantIdException", std::move(m), 400}; }
inline Status InvalidArn(std::string m) { return {"InvalidArnException", std::move(m), 400}; }
inline Status InvalidKeyUsage(std::string m) { return {"InvalidKeyUsageException", std::move(m), 400}; }
inline Status DryRun() {
  return {"DryRunOperationException", "The request would have succeeded, but the DryRun parameter was set.", 412};
}
}  // namespace err

}  // namespace meridian::kms
