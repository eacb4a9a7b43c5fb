// Rotators: what changes a secret's value at its source (a database password, an API key) when
// Secrets Manager rotates it — the role an AWS rotation Lambda plays.
//
// A rotation has a token (the ClientRequestToken of RotateSecret), which becomes the VersionId
// of the new version. Before the first step, the service creates that version labelled
// AWSPENDING and without a value. Then it runs the four steps in order, stopping at the first
// failure:
//   CreateSecret  put a new value in the pending version (RotationContext::PutPendingValue);
//   SetSecret     install the pending value at the source (e.g. ALTER ROLE ... PASSWORD);
//   TestSecret    check the pending value works at the source;
//   FinishSecret  make the pending version current (by default RotationContext::FinishRotation:
//                 AWSCURRENT moves to it, AWSPREVIOUS follows, AWSPENDING is removed).
// A failed step leaves AWSCURRENT where it was (still working) and the pending version labelled
// AWSPENDING, which blocks new rotations; the rotation is reattempted with the same token. Steps
// must therefore be idempotent, as Lambda rotation functions are.
//
// Rotators are found by the secret's rotation function id (RotateSecret's RotationLambdaARN,
// kept as an opaque string) through a RotatorResolver given to the SecretsService. The resolver
// and the rotators it returns may be called from several request threads at once. A rotator
// runs in the calling thread (RotateSecret's, or RunDueMaintenance's for scheduled rotations and
// reattempts), with no storage transaction held.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "common/status.h"
#include "secrets/random_password.h"
#include "secrets/secret_value.h"

namespace meridian::secrets {

// The service's side of a rotation, handed to each step.
class RotationContext {
 public:
  virtual ~RotationContext() = default;

  virtual const std::string& SecretArn() const = 0;
  // The rotation token: the VersionId of the pending version.
  virtual const std::string& Token() const = 0;

  // The value of the version labelled `stage` (AWSCURRENT, AWSPENDING, AWSPREVIOUS, or a custom
  // label). ResourceNotFoundException when no version has the label or it has no value yet.
  virtual Result<SecretValue> GetValue(std::string_view stage) = 0;
  // Stores `value` in the pending version. Idempotent: the value already there is a no-op; a
  // different value is ResourceExistsException.
  virtual Status PutPendingValue(const SecretValue& value) = 0;
  // Moves AWSCURRENT to the pending version (AWSPREVIOUS follows) and removes AWSPENDING.
  virtual Status FinishRotation() = 0;
  // A password as GetRandomPassword makes it.
  virtual Result<crypto::SecureBytes> RandomPassword(const PasswordOptions& options) {
    return GenerateRandomPassword(options);
  }
};

class Rotator {
 public:
  virtual ~Rotator() = default;
  virtual Status CreateSecret(RotationContext& ctx) = 0;
  virtual Status SetSecret(RotationContext& ctx) = 0;
  virtual Status TestSecret(RotationContext& ctx) = 0;
  virtual Status FinishSecret(RotationContext& ctx) { return ctx.FinishRotation(); }
  // True for rotators that run outside the service and call back through its API (rotation
  // hooks, hook_rotator.h): RotateSecret then only starts the rotation, and the steps run on the
  // service's rotation thread, as AWS runs a rotation Lambda asynchronously.
  virtual bool Asynchronous() const { return false; }
};

// The rotator for a rotation function id, or null when Meridian has none for it (the rotation
// is then left for an external rotator to complete through the API: PutSecretValue with the
// token and VersionStages ["AWSPENDING"], then UpdateSecretVersionStage moving AWSCURRENT).
using RotatorResolver = std::function<std::shared_ptr<Rotator>(const std::string& rotation_function_id)>;

}  // namespace meridian::secrets
