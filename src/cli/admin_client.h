// AdminClient: the CLI's way to call Meridian's admin API (MeridianAdmin.<Operation>, SigV4
// service "meridian") on every region of a deployment. One home for finding the regions, the
// credentials and the CA bundle, shared by `meridian status` and `meridian analyze`.
//
//   --data-dir DIR             every region in DIR/cluster.json, its admin credentials, and the
//                              deployment CA DIR/ca/ca-cert.pem when it exists (`up --tls`)
//   --endpoint URL --region R  one region; credentials from the environment or ~/.aws/credentials
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "sigv4/signer.h"

namespace meridian::cli {

struct AdminTargetOptions {
  std::string data_dir;
  std::string endpoint;
  std::string region;
  std::string ca_bundle;  // overrides the deployment CA
};

class AdminClient {
 public:
  // Fails with a message that says which options to give when neither form is complete.
  static Result<AdminClient> Open(const AdminTargetOptions& options);

  // (region, endpoint) of every region to ask, in cluster.json order.
  const std::vector<std::pair<std::string, std::string>>& regions() const { return regions_; }

  // MeridianAdmin.<operation> with `json` on one region; the response body or the AWS error.
  Result<std::string> Call(const std::string& region, const std::string& endpoint, const std::string& operation,
                           const std::string& json, std::chrono::milliseconds timeout) const;

 private:
  std::vector<std::pair<std::string, std::string>> regions_;
  sigv4::Credentials credentials_;
  std::string ca_bundle_;
};

}  // namespace meridian::cli
