// The error codes of the IAM and STS Query APIs (no "Exception" suffix on the wire), with the
// HTTP status AWS documents for each.
#pragma once

#include <string>

#include "common/status.h"

namespace meridian::iam::errors {

inline Status NoSuchEntity(std::string msg) { return {"NoSuchEntity", std::move(msg), 404}; }
inline Status EntityAlreadyExists(std::string msg) { return {"EntityAlreadyExists", std::move(msg), 409}; }
inline Status DeleteConflict(std::string msg) { return {"DeleteConflict", std::move(msg), 409}; }
inline Status LimitExceeded(std::string msg) { return {"LimitExceeded", std::move(msg), 409}; }
inline Status MalformedPolicyDocument(std::string msg) { return {"MalformedPolicyDocument", std::move(msg), 400}; }
inline Status InvalidInput(std::string msg) { return {"InvalidInput", std::move(msg), 400}; }
inline Status ValidationError(std::string msg) { return {"ValidationError", std::move(msg), 400}; }
inline Status InvalidAuthenticationCode(std::string msg) {
  return {"InvalidAuthenticationCode", std::move(msg), 403};
}
inline Status AccessDenied(std::string msg) { return {"AccessDenied", std::move(msg), 403}; }
inline Status ExpiredToken(std::string msg) { return {"ExpiredToken", std::move(msg), 400}; }
// Not an IAM model error: the code AWS uses for a request this endpoint will not perform here
// (EC2's UnsupportedOperation; KMS answers UnsupportedOperationException for writes to a replica
// key). A non-home region gives it for IAM changes (iam/global_iam.h).
inline Status UnsupportedOperation(std::string msg) { return {"UnsupportedOperation", std::move(msg), 400}; }
inline Status ServiceFailure(std::string msg) { return {"ServiceFailure", std::move(msg), 500}; }

}  // namespace meridian::iam::errors
