#include "cli/admin_client.h"

#include <filesystem>

#include "cli/cluster_file.h"
#include "sdk/aws_credentials.h"
#include "sdk/aws_json_client.h"
#include "sdk/http_client.h"

namespace meridian::cli {

Result<AdminClient> AdminClient::Open(const AdminTargetOptions& o) {
  AdminClient c;
  c.ca_bundle_ = o.ca_bundle;
  if (!o.data_dir.empty()) {
    MERIDIAN_ASSIGN_OR_RETURN(ClusterFile cluster, ClusterFile::Load(o.data_dir + "/cluster.json"));
    c.credentials_ = sigv4::Credentials::Make(cluster.admin_access_key_id, cluster.admin_secret_access_key);
    for (const auto& [region, endpoint] : cluster.region_endpoints) c.regions_.emplace_back(region, endpoint);
    // `up --tls`: the deployment CA in DIR/ca signs the endpoints' certificates.
    const std::string deployment_ca = o.data_dir + "/ca/ca-cert.pem";
    if (c.ca_bundle_.empty() && std::filesystem::exists(deployment_ca)) c.ca_bundle_ = deployment_ca;
    return c;
  }
  if (o.endpoint.empty() || o.region.empty())
    return Status("InvalidArgument", "give --data-dir, or --endpoint and --region");
  MERIDIAN_ASSIGN_OR_RETURN(c.credentials_, sdk::LoadAwsCredentials());
  c.regions_.emplace_back(o.region, o.endpoint);
  return c;
}

Result<std::string> AdminClient::Call(const std::string& region, const std::string& endpoint,
                                      const std::string& operation, const std::string& json,
                                      std::chrono::milliseconds timeout) const {
  MERIDIAN_ASSIGN_OR_RETURN(sdk::HttpEndpoint ep, sdk::HttpEndpoint::Parse(endpoint));
  sigv4::Signer signer(
      sigv4::Credentials{credentials_.access_key_id, credentials_.secret_access_key.Clone(), credentials_.session_token},
      region, "meridian");
  sdk::HttpOptions http;
  http.timeout = timeout;
  http.ca_file = ca_bundle_;
  return sdk::CallAwsJson(ep, signer, "MeridianAdmin." + operation, json, http, "Meridian");
}

}  // namespace meridian::cli
