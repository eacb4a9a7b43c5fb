// The transient "Updating" key state of UpdatePrimaryRegion, as AWS KMS documents it: while the
// primary Region of a multi-Region key moves, the old and the new primary keys are both Updating;
// they stay usable in cryptographic operations, but the key cannot be replicated and its primary
// cannot be moved again; Enabled is restored when the update is complete.
//
// The handshake over the peer links (replication_handlers.cpp), from old primary A to new primary B:
//   A  UpdatePrimaryRegion: A must be Enabled; A becomes a replica, Updating, and sends
//      kms.MultiRegionConfigurationUpdated with "primary_update_from": A to B (plain configuration
//      to the other replicas)
//   B  applies it: B becomes the primary; if Enabled, Updating; answers kms.PrimaryUpdateApplied
//   A  on PrimaryUpdateApplied: Updating -> Enabled; answers kms.PrimaryUpdateCompleted
//   B  on PrimaryUpdateCompleted: Updating -> Enabled
// Each side restores Enabled only if the key is still Updating (never overriding a later state).
// A region that is down keeps its side Updating until it is back (the messages are durable).
// Internal to the KMS component.
#pragma once

namespace meridian::kms::primary_update {

inline constexpr char kUpdatingState[] = "Updating";
inline constexpr char kFromMember[] = "primary_update_from";
inline constexpr char kApplied[] = "kms.PrimaryUpdateApplied";
inline constexpr char kCompleted[] = "kms.PrimaryUpdateCompleted";

}  // namespace meridian::kms::primary_update
