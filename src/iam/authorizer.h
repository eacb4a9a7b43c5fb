// Authorizer: the decision step between authentication and the operation.
//
// The server asks, for every authenticated request, whether the caller may perform the action
// (e.g. "kms:Encrypt") in this region. The account authorizer below is the foundation's policy:
// any active credential of an account may act on that account's resources (resources of other
// accounts stay invisible to it). The IAM policy engine replaces it with AWS's evaluation logic.
#pragma once

#include <string>

#include "common/status.h"

namespace meridian::iam {

struct AuthorizationRequest {
  std::string principal_arn;
  std::string principal_account;
  std::string action;  // "kms:Encrypt"
  std::string region;  // aws:RequestedRegion
  std::string source_ip;
  std::string source_vpce;  // the listener's endpoint id, if any
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  // OK to proceed, or AccessDeniedException saying who, what and why.
  virtual Status Authorize(const AuthorizationRequest& request) const = 0;
};

// Allows every request of a known principal on its own account's resources.
class AccountAuthorizer final : public Authorizer {
 public:
  Status Authorize(const AuthorizationRequest& request) const override {
    if (request.principal_account.empty() || request.principal_arn.empty())
      return errors::AccessDenied("User is not authorized to perform: " + request.action +
                                  " because the request has no authenticated principal");
    return Status::Ok();
  }
};

}  // namespace meridian::iam
