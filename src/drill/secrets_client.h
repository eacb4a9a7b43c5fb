// The few AWS Secrets Manager calls an application of the global-database example makes (JSON
// 1.1, SigV4 service "secretsmanager"), against one region's endpoint: Meridian's or AWS's.
// The database password lives there, replicated to the other region; each region's application
// reads it from its own region with GetSecretValue, never from a file or a command line.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "crypto/crypto.h"
#include "sdk/http_client.h"
#include "sigv4/signer.h"

namespace meridian::drill {

class SecretsClient {
 public:
  // `credentials` is copied.
  static Result<std::unique_ptr<SecretsClient>> Create(std::string region, std::string endpoint,
                                                       const sigv4::Credentials& credentials, sdk::HttpOptions http = {});

  const std::string& region() const { return region_; }

  // CreateSecret with SecretString and AddReplicaRegions (each replica encrypted under that
  // region's default Secrets Manager key). Returns the secret's ARN.
  Result<std::string> CreateReplicatedSecret(const std::string& name, const crypto::SecureBytes& secret_string,
                                             const std::vector<std::string>& replica_regions);
  // GetSecretValue's SecretString for `version_stage` (AWSCURRENT by default). The string is
  // wiped when the returned SecureBytes is destroyed.
  Result<crypto::SecureBytes> GetSecretString(const std::string& secret_id,
                                              const std::string& version_stage = "AWSCURRENT");
  // GetSecretString, retried every 100 ms while the secret is not there yet (ResourceNotFound in
  // a replica region before replication arrives), up to `timeout`.
  Result<crypto::SecureBytes> WaitForSecretString(const std::string& secret_id, std::chrono::milliseconds timeout);
  // Any operation ("GetSecretValue"), body as JSON; the error as a Status named after __type.
  Result<std::string> Call(const std::string& operation, const std::string& json);

 private:
  SecretsClient(std::string region, sdk::HttpEndpoint endpoint, sigv4::Credentials credentials, sdk::HttpOptions http);

  std::string region_;
  sdk::HttpEndpoint endpoint_;
  sdk::HttpOptions http_;
  sigv4::Signer signer_;
};

// One member of a JSON object held in `json` (e.g. "password" of {"username":..,"password":..}),
// as SecureBytes; NotFoundException if absent or not a string.
Result<crypto::SecureBytes> JsonStringMember(const crypto::SecureBytes& json, const char* member);

}  // namespace meridian::drill
