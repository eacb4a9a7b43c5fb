#include "kms/grant_set.h"

#include <algorithm>
#include <array>

namespace meridian::kms {
namespace {

// Splits "arn:<partition>:<service>:<region>:<account>:<resource>"; false if `arn` is not one.
bool SplitArn(std::string_view arn, std::array<std::string_view, 5>& parts, std::string_view& resource) {
  if (arn.substr(0, 4) != "arn:") return false;
  size_t start = 4;
  for (size_t i = 0; i < 4; ++i) {
    const size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(start, colon - start);
    start = colon + 1;
  }
  parts[4] = {};
  resource = arn.substr(start);
  return true;
}

std::string RoleKey(std::string_view partition, std::string_view account, std::string_view name) {
  std::string key;
  key.reserve(partition.size() + account.size() + name.size() + 2);
  key.append(partition).append("|").append(account).append("|").append(name);
  return key;
}

}  // namespace

std::string RoleKeyOfRoleArn(std::string_view arn) {
  std::array<std::string_view, 5> p;
  std::string_view resource;
  if (!SplitArn(arn, p, resource) || p[1] != "iam" || !p[2].empty() || p[3].empty()) return "";
  if (resource.substr(0, 5) != "role/") return "";
  const std::string_view name = resource.substr(resource.rfind('/') + 1);
  return name.empty() ? "" : RoleKey(p[0], p[3], name);
}

std::string RoleKeyOfSessionArn(std::string_view arn) {
  std::array<std::string_view, 5> p;
  std::string_view resource;
  if (!SplitArn(arn, p, resource) || p[1] != "sts" || !p[2].empty() || p[3].empty()) return "";
  if (resource.substr(0, 13) != "assumed-role/") return "";
  const std::string_view rest = resource.substr(13);
  const size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos) return "";
  return RoleKey(p[0], p[3], rest.substr(0, slash));
}

bool CallerIsPrincipal(std::string_view principal, std::string_view caller_arn) {
  if (principal.empty() || caller_arn.empty()) return false;
  if (principal == caller_arn) return true;
  const std::string role = RoleKeyOfSessionArn(caller_arn);
  return !role.empty() && role == RoleKeyOfRoleArn(principal);
}

GrantSet::GrantSet(std::vector<Grant> grants) : grants_(std::move(grants)) {
  std::sort(grants_.begin(), grants_.end(), [](const Grant& a, const Grant& b) { return a.grant_id < b.grant_id; });
  for (size_t i = 0; i < grants_.size(); ++i) {
    by_grantee_[grants_[i].grantee_principal].push_back(i);
    if (std::string role = RoleKeyOfRoleArn(grants_[i].grantee_principal); !role.empty())
      by_role_[role].push_back(i);
  }
}

const Grant* GrantSet::Find(std::string_view grant_id) const {
  auto it = std::lower_bound(grants_.begin(), grants_.end(), grant_id,
                             [](const Grant& g, std::string_view id) { return g.grant_id < id; });
  return it != grants_.end() && it->grant_id == grant_id ? &*it : nullptr;
}

size_t GrantSet::CountForGrantee(const std::string& grantee) const {
  auto it = by_grantee_.find(grantee);
  return it == by_grantee_.end() ? 0 : it->second.size();
}

std::vector<const Grant*> GrantSet::ForCaller(std::string_view caller_arn) const {
  std::vector<size_t> indexes;
  if (grants_.empty()) return {};
  if (auto it = by_grantee_.find(std::string(caller_arn)); it != by_grantee_.end())
    indexes.insert(indexes.end(), it->second.begin(), it->second.end());
  if (!by_role_.empty()) {
    if (std::string role = RoleKeyOfSessionArn(caller_arn); !role.empty())
      if (auto it = by_role_.find(role); it != by_role_.end())
        indexes.insert(indexes.end(), it->second.begin(), it->second.end());
  }
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  std::vector<const Grant*> out;
  out.reserve(indexes.size());
  for (size_t i : indexes) out.push_back(&grants_[i]);
  return out;
}

const Grant* GrantSet::FindAllowing(std::string_view caller_arn, GrantOps ops, const EncryptionContext& context) const {
  if (grants_.empty() || ops == 0) return nullptr;
  const bool constrained = (ops & grant_op::kWithEncryptionContext) != 0;
  for (const Grant* g : ForCaller(caller_arn))
    if (g->allows(ops) && (!constrained || g->constraint.AllowsContext(context))) return g;
  return nullptr;
}

const Grant* GrantSet::FindAllowingCreateGrant(std::string_view caller_arn, GrantOps child_ops,
                                               const GrantConstraint& child_constraint) const {
  if (grants_.empty() || child_ops == 0) return nullptr;
  for (const Grant* g : ForCaller(caller_arn))
    if (g->allows(grant_op::kCreateGrant | child_ops) && g->constraint.PermitsChild(child_constraint)) return g;
  return nullptr;
}

}  // namespace meridian::kms
