// The application's database password during the DR drill: a Meridian secret created in region A
// and replicated to B, caught in the middle of a rotation when A fails.
//
// Begin (in A, before the failure): creates the PostgreSQL role the application logs in as
// (drill_app, SELECT on the records table) with password P1, the secret holding P1 (AWSCURRENT,
// replica in B), and starts a rotation the way a rotation function does: P2 staged as AWSPENDING
// (createSecret) and nothing else yet, so at failure time the database still takes P1 only.
//
// FinishInB (after failover, A dead): the application in B reads AWSCURRENT from B's replica and
// logs in to B's promoted database with it (it must still be P1); then the rotation finishes in
// B: the replica becomes a standalone secret (StopReplicationToReplica), P2 is set on B's
// database (setSecret), tested (testSecret) and moved to AWSCURRENT (finishSecret), and the
// application logs in with the new AWSCURRENT. Passwords never leave this process but to
// Meridian and PostgreSQL; they are wiped when the object goes.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "drill/dr_report.h"
#include "drill/key_strategies.h"
#include "storage/postgres_cluster.h"

namespace meridian::drill {

class SecretRotationDrill {
 public:
  // `regions`: A and B's endpoints and credentials (Secrets Manager is served on the same endpoint).
  static Result<SecretRotationDrill> Begin(const TwoRegionKms& regions, const storage::LocalPostgres& primary,
                                           std::string_view database, std::string_view table);
  // `b_database`: region B's promoted database server.
  SecretRotationCheck FinishInB(const storage::LocalPostgres& b_database) const;

  ~SecretRotationDrill();
  SecretRotationDrill(SecretRotationDrill&&) = default;
  SecretRotationDrill& operator=(SecretRotationDrill&&) = default;

 private:
  SecretRotationDrill() = default;

  std::string region_b_, endpoint_b_;
  sigv4::Credentials credentials_;
  sdk::HttpOptions http_;
  std::string database_;
  std::string old_password_, new_password_;
  std::string pending_version_id_;
};

}  // namespace meridian::drill
