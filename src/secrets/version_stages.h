// The version-stage rules of Secrets Manager, as AWS documents them, applied to a SecretRecord.
//
//  - A staging label is attached to at most one version: attaching it elsewhere moves it.
//  - Moving AWSCURRENT moves AWSPREVIOUS to the version AWSCURRENT left (and off the version it
//    arrives on).
//  - A version without labels is deprecated; deprecated versions are removed only when the
//    secret needs room (it holds at most kMaxVersions), oldest first, and never when younger
//    than kDeprecatedVersionMinAgeMs.
//  - A version holds at most kMaxStagesPerVersion labels; the secret at most
//    kMaxLabelsPerSecret distinct labels (LimitExceededException otherwise).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "secrets/secret_record.h"

namespace meridian::secrets {

namespace stage {
inline constexpr std::string_view kCurrent = "AWSCURRENT";
inline constexpr std::string_view kPrevious = "AWSPREVIOUS";
inline constexpr std::string_view kPending = "AWSPENDING";
}  // namespace stage

inline constexpr size_t kMaxVersions = 100;
inline constexpr int64_t kDeprecatedVersionMinAgeMs = 24LL * 3600 * 1000;
inline constexpr size_t kMaxStagesPerVersion = 20;
inline constexpr size_t kMaxLabelsPerSecret = 20;

// Attaches `label` to `version` (a version of `secret`), moving it from any other version.
void AttachStage(SecretRecord& secret, std::string_view version_id, std::string_view label);
// Removes `label` from whichever version holds it.
void DetachStage(SecretRecord& secret, std::string_view label);

// LimitExceededException if `secret` breaks the label quotas.
Status CheckStageQuotas(const SecretRecord& secret);

// Makes room for one more version: while the secret holds kMaxVersions or more, removes its
// oldest deprecated version older than the minimum age. Returns the ids removed (their value rows
// must be deleted in the same transaction), or LimitExceededException when no room can be made.
Result<std::vector<std::string>> MakeRoomForVersion(SecretRecord& secret, int64_t now_ms);

}  // namespace meridian::secrets
