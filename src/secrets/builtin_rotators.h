// BuiltInRotators: the resolver (rotator.h) for the rotators Meridian runs itself, by the rotation
// function id a secret's RotateSecret named (RotationLambdaARN):
//   arn:aws:lambda:<region>:<account>:function:meridian-postgres-single-user
//       PostgreSQL user password, single-user strategy (postgres_rotator.h).
// Any other id resolves to null: the rotation is left to an external rotator, which completes it
// through the API as an AWS rotation Lambda would.
#pragma once

#include "secrets/rotator.h"

namespace meridian::secrets {

// The returned resolver and the rotators it hands out are thread-safe and share no state with
// other resolvers.
RotatorResolver BuiltInRotators();

}  // namespace meridian::secrets
