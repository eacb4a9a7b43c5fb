// The built-in rotator for PostgreSQL user passwords, "single user" strategy: what AWS's
// SecretsManagerRDSPostgreSQLRotationSingleUser Lambda does, run inside Meridian.
//
// The secret's value is the JSON of AWS's RDS rotation templates:
//   {"engine":"postgres","host":"db.example","port":5432,"username":"app","password":"...",
//    "dbname":"appdb"}
// engine, host, username and password are required; port defaults to 5432, dbname to "postgres".
// Other members are kept unchanged in the new version.
//
// A secret selects this rotator with RotateSecret's RotationLambdaARN naming the function
// kPostgresSingleUserFunction in any region, account and partition, e.g.
//   aws secretsmanager rotate-secret --secret-id app-db --rotation-lambda-arn
//       arn:aws:lambda:us-east-1:111122223333:function:meridian-postgres-single-user
// (the bare function name is accepted as well). No Lambda exists behind it: Meridian runs it.
//
// The steps, as in AWS's template:
//   createSecret  unless AWSPENDING already has a value (an earlier attempt), copies AWSCURRENT
//                 with a new random password (32 characters, AWS's RDS exclusions /@"'\) into it;
//   setSecret     logs in with AWSPENDING (already set: done), else with AWSCURRENT, else with
//                 AWSPREVIOUS, and changes the user's password to AWSPENDING's with ALTER USER.
//                 The pending JSON must name the same username and host as AWSCURRENT. The new
//                 password never reaches the server in plaintext: libpq turns it into the server's
//                 password verifier (SCRAM-SHA-256) on the client side, as psql's \password does,
//                 so it cannot appear in the server's statement log either;
//   testSecret    logs in with AWSPENDING and runs SELECT 1;
//   finishSecret  moves AWSCURRENT to the pending version (the default).
// A failed step leaves AWSCURRENT as it was (its password still works unless the failure came
// after setSecret changed it, as with AWS) and AWSPENDING in place for the reattempt.
//
// Passwords are held in SecureBytes while in use and never appear in error messages or logs
// (server messages that would echo one are redacted). Connections use libpq's keyword/value
// interface (no conninfo string is built from secret fields) with `connect_timeout_seconds`.
// Thread-safe: the rotator keeps no per-rotation state.
#pragma once

#include <string_view>

#include "secrets/rotator.h"

namespace meridian::secrets {

// The Lambda function name that selects this rotator.
inline constexpr std::string_view kPostgresSingleUserFunction = "meridian-postgres-single-user";

// True when `rotation_function_id` is kPostgresSingleUserFunction, bare or as a Lambda function
// ARN (arn:<partition>:lambda:<region>:<account>:function:meridian-postgres-single-user).
bool IsPostgresSingleUserFunction(std::string_view rotation_function_id);

class PostgresSingleUserRotator final : public Rotator {
 public:
  struct Options {
    PasswordOptions password = DefaultPasswordOptions();
    int connect_timeout_seconds = 5;
  };
  // AWS's template defaults: 32 characters, excluding / @ " ' and backslash.
  static PasswordOptions DefaultPasswordOptions();

  PostgresSingleUserRotator() : PostgresSingleUserRotator(Options{}) {}
  explicit PostgresSingleUserRotator(Options options) : options_(std::move(options)) {}

  Status CreateSecret(RotationContext& ctx) override;
  Status SetSecret(RotationContext& ctx) override;
  Status TestSecret(RotationContext& ctx) override;

 private:
  Options options_;
};

}  // namespace meridian::secrets
