// Cross-region replication of secrets, as AWS Secrets Manager documents it: a primary secret
// is replicated to replica regions (AddReplicaRegions on CreateSecret, ReplicateSecretToRegions);
// a replica has the primary's name and ARN except the region, is read-only in its region, and
// follows every change of the primary in order until it is removed (RemoveRegionsFromReplication,
// which deletes it) or promoted to a standalone secret (StopReplicationToReplica, called in the
// replica's region).
//
// Messages (replication.h: a durable outbox per peer, applied in order and exactly once):
//
//   secrets.ReplicaCreated  primary -> replica region: create the replica (name clash: Failed,
//                           unless ForceOverwriteReplicaSecret); names the replica's KMS key
//   secrets.SecretChanged   primary -> replicas: the shared view of the record (SecretRecord::
//                           SharedView) after a change, and the ids of the versions that gained
//                           a value in it
//   secrets.ReplicaRemoved  primary -> replica region: delete the replica
//   secrets.ReplicaStatus   replica -> primary: InSync / Failed with a message, last access date
//   secrets.ReplicaPromoted replica -> primary: the replica is now a standalone secret
//
// Invariants:
//  - A value never sits in the outbox, and never travels or rests under another region's key.
//    The outbox names the versions; at send time the expander opens each from this region's
//    store (its KMS, as the secretsmanager service) and adds it to the wire payload only, inside
//    the mutual-TLS peer link, wiping its copies after the send. The replica region seals it on
//    arrival under the replica's KmsKeyId or its own aws/secretsmanager key, with encryption
//    context {SecretARN: replica ARN, SecretVersionId: version} (sealed_value.h).
//  - Handlers never fail on account of a secret's state: a replica whose key is unusable, a
//    version the primary could not open, a name clash, all become the replica's Failed status
//    (reported to the primary's ReplicationStatus) while the stream keeps flowing, so the primary
//    and the other secrets keep replicating. Handlers are idempotent: applying a message twice
//    leaves the state of applying it once.
//  - A region acts only on its own relationships: a message from region S changes only a local
//    replica whose primary is S (or, on a primary, only S's entry in ReplicationStatus).
#pragma once

#include <string_view>

namespace meridian::secrets {

inline constexpr std::string_view kReplicationKindPrefix = "secrets.";

namespace message {
inline constexpr char kReplicaCreated[] = "secrets.ReplicaCreated";
inline constexpr char kSecretChanged[] = "secrets.SecretChanged";
inline constexpr char kReplicaRemoved[] = "secrets.ReplicaRemoved";
inline constexpr char kReplicaStatus[] = "secrets.ReplicaStatus";
inline constexpr char kReplicaPromoted[] = "secrets.ReplicaPromoted";
}  // namespace message

}  // namespace meridian::secrets
