// AdminService: Meridian's own administrative API, served on every region endpoint beside KMS and
// Secrets Manager through the same pipeline (SigV4 with service name "meridian", authorization of
// "meridian:<Operation>", audit).
//
//   X-Amz-Target: MeridianAdmin.DescribeRegions   (AWS JSON 1.1, body {})
//
// DescribeRegions answers what this region knows about the deployment: itself, and for every peer
// region its replication link (connected, entries pending, acknowledged sequence, lag of the
// oldest pending entry, failures, last error), plus the audit trail's counters. Names and counts
// only: nothing secret. `meridian status` calls it on every region of a deployment.
//
//   X-Amz-Target: MeridianAdmin.AnalyzeBlastRadius   (body {"AccessKeyId"} or {"PrincipalArn"})
//
// AnalyzeBlastRadius answers what one principal of the caller's account could do in this region,
// decided by the region's own authorizer for every key, secret, role and account-level action
// (server/blast_radius.h). `meridian analyze blast-radius` calls it on every region.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "audit/audit_log.h"
#include "common/aws_json.h"
#include "common/caller.h"
#include "common/status.h"
#include "replication/peer_link.h"
#include "server/blast_radius.h"

namespace meridian::server {

struct AdminServiceOptions {
  std::string region;
  std::string account_id;
  // Peer region -> its peer-link endpoint, as configured.
  std::vector<std::pair<std::string, std::string>> peers;
  // The current state of every peer link (called per request; must be thread-safe).
  std::function<std::vector<replication::PeerLinkState>()> peer_states;
  const audit::AuditLog* audit = nullptr;  // null when auditing is off
  // What AnalyzeBlastRadius reads (the region's authorizer, directory, KMS and Secrets Manager).
  BlastRadiusSources blast_radius;
};

class AdminService {
 public:
  explicit AdminService(AdminServiceOptions options);

  static bool Knows(std::string_view operation);
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller, JsonWriter& out);

 private:
  AdminServiceOptions options_;
};

}  // namespace meridian::server
