// Rotation hooks: rotation functions that run outside Meridian, invoked as AWS Lambda invokes a
// rotation function, so that an existing function written for AWS (lambda_handler(event,
// context) with boto3 and AWS's four-step template) runs unchanged.
//
// A region's configuration maps rotation function names to hooks:
//   "rotation_functions": [
//     {"name": "my-rotator",                              // RotationLambdaARN's function name
//      "command": ["python3", "lambda_runner.py", "rotate.py"],   // or:
//      "url": "http://127.0.0.1:9000/rotate",
//      "role_arn": "arn:aws:iam::111122223333:role/rotation-exec", // the execution role
//      "timeout_seconds": 30,
//      "environment": {"EXCLUDE_CHARACTERS": "/@\"'\\"}}]
// A secret's RotationLambdaARN names a hook by the function name, bare or as a Lambda ARN
// (arn:<partition>:lambda:<region>:<account>:function:<name>[:qualifier]).
//
// Invocation: for each step (createSecret, setSecret, testSecret, finishSecret, in order, stopping
// at the first failure) the hook receives the event {"SecretId": <secret ARN>,
// "ClientRequestToken": <token>, "Step": <step>}:
//  - command hooks: a new process per step (no shell), the event on stdin; exit status 0 is
//    success, anything else (or the timeout, after which the process is killed) a failure whose
//    message is the last line of its output. Its environment is built from scratch, as a
//    Lambda's is: PATH, HOME, LANG, PYTHONPATH from the server; AWS_REGION / AWS_DEFAULT_REGION;
//    the region's Secrets Manager endpoint (SECRETS_MANAGER_ENDPOINT, as AWS's rotation templates
//    read it, AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL for boto3); AWS_CA_BUNDLE for
//    an HTTPS endpoint; AWS_LAMBDA_FUNCTION_NAME; the hook's "environment"; and the execution
//    role's credentials (below).
//  - URL hooks: one HTTP POST per step with the event as the JSON body (Lambda's Invoke payload);
//    a 2xx status is success, anything else a failure whose message is the body's first line.
//    A URL hook is a running service with its own identity: it is sent no credentials.
//
// Credentials: a hook never receives the administrator's keys. With "role_arn", each invocation
// gets a fresh STS session of that role (15 minutes, session name = the function name), as a
// Lambda gets its execution role's: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
// The role's identity policies decide what the hook may do (typically secretsmanager:
// DescribeSecret, GetSecretValue, PutSecretValue, UpdateSecretVersionStage, GetRandomPassword on
// the secrets it rotates). Without "role_arn" a command hook gets no credentials at all.
//
// Hook rotators run out of process and call back into the service through its API, so the
// service runs them asynchronously (Rotator::Asynchronous), as AWS runs rotation Lambdas: RotateSecret
// returns once the rotation has started.
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <rapidjson/document.h>

#include "common/status.h"
#include "secrets/rotator.h"

namespace meridian::secrets {

struct RotationHook {
  std::string name;                  // the function name
  std::vector<std::string> command;  // argv (argv[0] looked up in PATH); empty for URL hooks
  std::string url;                   // http(s)://host[:port]/path; empty for command hooks
  std::string role_arn;              // execution role; empty: no credentials
  int timeout_seconds = 30;
  std::vector<std::pair<std::string, std::string>> environment;
};

// Parses the "rotation_functions" array. Names are unique; each hook has exactly one of command
// and url; timeout_seconds is 1..900 (Lambda's limit).
Result<std::vector<RotationHook>> ParseRotationHooks(const rapidjson::Value& array);
// The same array as JSON text (for configuration files).
std::string RotationHooksToJson(const std::vector<RotationHook>& hooks);

// Temporary credentials for one invocation.
struct HookCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

// What a hook needs from its region.
struct HookEnvironment {
  std::string region;
  // The region's Secrets Manager endpoint ("http://127.0.0.1:4567"), read at invocation time.
  std::function<std::string()> endpoint;
  std::string ca_bundle;  // trust anchor for an https endpoint; may be empty
  // Issues a session of `role_arn` named `session_name` for a hook of the secret's `account_id`.
  std::function<Result<HookCredentials>(const std::string& account_id, const std::string& role_arn,
                                        const std::string& session_name)>
      issue_credentials;
};

// The function name a RotationLambdaARN names: the bare name, or the name inside a Lambda
// function ARN (a version or alias qualifier is dropped).
std::string RotationFunctionName(const std::string& rotation_function_id);

// Resolves the hooks' names (rotator.h) to rotators invoking them; other ids resolve through
// `fallback` (e.g. BuiltInRotators()), which may be empty.
RotatorResolver HookRotators(std::vector<RotationHook> hooks, HookEnvironment environment,
                             RotatorResolver fallback = {});

}  // namespace meridian::secrets
