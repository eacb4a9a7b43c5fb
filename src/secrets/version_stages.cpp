#include "secrets/version_stages.h"

#include <algorithm>
#include <set>

#include "secrets/errors.h"

namespace meridian::secrets {

void DetachStage(SecretRecord& secret, std::string_view label) {
  for (auto& v : secret.versions) std::erase(v.stages, label);
}

void AttachStage(SecretRecord& secret, std::string_view version_id, std::string_view label) {
  SecretVersion* target = secret.FindVersion(version_id);
  if (target == nullptr || target->HasStage(label)) return;
  if (label == stage::kCurrent) {
    SecretVersion* old_current = secret.VersionWithStage(stage::kCurrent);
    const std::string left = old_current ? old_current->id : std::string();
    DetachStage(secret, stage::kCurrent);
    DetachStage(secret, stage::kPrevious);
    if (!left.empty()) secret.FindVersion(left)->stages.emplace_back(stage::kPrevious);
  } else {
    DetachStage(secret, label);
  }
  secret.FindVersion(version_id)->stages.emplace_back(label);
}

Status CheckStageQuotas(const SecretRecord& secret) {
  std::set<std::string_view> labels;
  for (const auto& v : secret.versions) {
    if (v.stages.size() > kMaxStagesPerVersion)
      return err::LimitExceeded("A version of a secret can have at most " + std::to_string(kMaxStagesPerVersion) +
                                " staging labels.");
    labels.insert(v.stages.begin(), v.stages.end());
  }
  if (labels.size() > kMaxLabelsPerSecret)
    return err::LimitExceeded("A secret can have at most " + std::to_string(kMaxLabelsPerSecret) +
                              " staging labels attached across all of its versions.");
  return Status::Ok();
}

Result<std::vector<std::string>> MakeRoomForVersion(SecretRecord& secret, int64_t now_ms) {
  std::vector<std::string> removed;
  while (secret.versions.size() >= kMaxVersions) {
    // versions are kept oldest first
    auto it = std::find_if(secret.versions.begin(), secret.versions.end(), [&](const SecretVersion& v) {
      return v.stages.empty() && now_ms - v.created_ms >= kDeprecatedVersionMinAgeMs;
    });
    if (it == secret.versions.end())
      return err::LimitExceeded("The secret already has " + std::to_string(secret.versions.size()) +
                                " versions, and none can be removed yet: Secrets Manager keeps every labeled "
                                "version and every version created in the last 24 hours.");
    removed.push_back(it->id);
    secret.versions.erase(it);
  }
  return removed;
}

}  // namespace meridian::secrets
