// The Secrets Manager service's errors, with AWS's names, HTTP status codes and messages.
#pragma once

#include <string>

#include "common/status.h"

namespace meridian::secrets::err {

inline Status NotFound(std::string m = "Secrets Manager can't find the specified secret.") {
  return {"ResourceNotFoundException", std::move(m), 400};
}
inline Status InvalidParameter(std::string m) { return {"InvalidParameterException", std::move(m), 400}; }
inline Status InvalidRequest(std::string m) { return {"InvalidRequestException", std::move(m), 400}; }
inline Status ResourceExists(std::string m) { return {"ResourceExistsException", std::move(m), 400}; }
inline Status LimitExceeded(std::string m) { return {"LimitExceededException", std::move(m), 400}; }
inline Status MalformedPolicy(std::string m) { return {"MalformedPolicyDocumentException", std::move(m), 400}; }
inline Status PublicPolicy(std::string m) { return {"PublicPolicyException", std::move(m), 400}; }
inline Status InvalidNextToken() {
  return {"InvalidNextTokenException", "The NextToken value is invalid.", 400};
}
inline Status DecryptionFailure(std::string m) { return {"DecryptionFailure", std::move(m), 400}; }
inline Status EncryptionFailure(std::string m) { return {"EncryptionFailure", std::move(m), 400}; }
inline Status KmsAccessDenied() { return {"AccessDeniedException", "Access to KMS is not allowed", 400}; }
inline Status Internal(std::string m) { return {"InternalServiceError", std::move(m), 500}; }

// The message AWS returns for any operation on a secret scheduled for deletion.
inline Status MarkedForDeletion() {
  return InvalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
}

// The message AWS returns for a change attempted on a replica secret in its own region.
inline Status ReplicaReadOnly() {
  return InvalidParameter("Operation not permitted on a replica secret. Call must be made in primary secret's region.");
}

}  // namespace meridian::secrets::err
