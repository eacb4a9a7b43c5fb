#include "iam/policy/request_context.h"

#include "common/clock.h"
#include "iam/policy/text.h"

namespace meridian::iam::policy {

namespace {

std::string Concat(std::initializer_list<std::string_view> parts) {
  std::string out;
  size_t n = 0;
  for (auto p : parts) n += p.size();
  out.reserve(n);
  for (auto p : parts) out.append(p);
  return out;
}

}  // namespace

Principal Principal::Anonymous() { return Principal{}; }

Principal Principal::Root(std::string_view partition, std::string_view account) {
  Principal p;
  p.type = PrincipalType::kRoot;
  p.account = std::string(account);
  p.arn = Concat({"arn:", partition, ":iam::", account, ":root"});
  p.user_id = std::string(account);
  return p;
}

Principal Principal::User(std::string_view partition, std::string_view account, std::string_view path,
                          std::string_view name, std::string_view user_id) {
  Principal p;
  p.type = PrincipalType::kUser;
  p.account = std::string(account);
  if (path.empty()) path = "/";
  p.arn = Concat({"arn:", partition, ":iam::", account, ":user", path, name});
  p.user_id = std::string(user_id);
  p.user_name = std::string(name);
  return p;
}

Principal Principal::AssumedRole(std::string_view partition, std::string_view account,
                                 std::string_view role_path, std::string_view role_name,
                                 std::string_view session_name, std::string_view role_id) {
  Principal p;
  p.type = PrincipalType::kAssumedRole;
  p.account = std::string(account);
  if (role_path.empty()) role_path = "/";
  p.arn = Concat({"arn:", partition, ":sts::", account, ":assumed-role/", role_name, "/", session_name});
  p.role_arn = Concat({"arn:", partition, ":iam::", account, ":role", role_path, role_name});
  p.user_id = Concat({role_id, ":", session_name});
  return p;
}

Principal Principal::Service(std::string_view service_name) {
  Principal p;
  p.type = PrincipalType::kService;
  p.service = std::string(service_name);
  p.arn = std::string(service_name);
  return p;
}

std::string_view PrincipalTypeName(PrincipalType type) {
  switch (type) {
    case PrincipalType::kAnonymous: return "Anonymous";
    case PrincipalType::kRoot: return "Account";
    case PrincipalType::kUser: return "User";
    case PrincipalType::kAssumedRole: return "AssumedRole";
    case PrincipalType::kFederatedUser: return "FederatedUser";
    case PrincipalType::kService: return "Service";
    case PrincipalType::kFederated: return "WebIdentityUser";
  }
  return "Anonymous";
}

RequestContext::RequestContext(Principal principal, std::string action, std::string resource)
    : principal_(std::move(principal)),
      action_(std::move(action)),
      action_lower_(ToLower(action_)),
      resource_(std::move(resource)) {
  const Principal& p = principal_;
  // Principal-derived global keys (IAM User Guide, "AWS global condition context keys").
  switch (p.type) {
    case PrincipalType::kAnonymous:
      Set("aws:PrincipalType", "Anonymous");
      break;
    case PrincipalType::kService:
      Set("aws:PrincipalServiceName", p.service);
      Set("aws:PrincipalIsAWSService", "true");
      break;
    case PrincipalType::kFederated:
      break;
    case PrincipalType::kRoot:
    case PrincipalType::kUser:
    case PrincipalType::kAssumedRole:
    case PrincipalType::kFederatedUser:
      Set("aws:PrincipalType", std::string(PrincipalTypeName(p.type)));
      Set("aws:PrincipalIsAWSService", "false");
      // aws:PrincipalArn: for a role session, the ARN of the role (not of the session).
      Set("aws:PrincipalArn", p.type == PrincipalType::kAssumedRole ? p.role_arn : p.arn);
      Set("aws:PrincipalAccount", p.account);
      break;
  }
  if (!p.user_id.empty()) Set("aws:userid", p.user_id);
  if (p.type == PrincipalType::kUser && !p.user_name.empty()) Set("aws:username", p.user_name);
  for (const auto& [key, value] : p.tags) Set("aws:PrincipalTag/" + key, value);
}

void RequestContext::Set(std::string_view key, std::string value) {
  auto& values = keys_[ToLower(key)];
  values.clear();
  values.push_back(std::move(value));
}

void RequestContext::SetValues(std::string_view key, std::vector<std::string> values) {
  keys_[ToLower(key)] = std::move(values);
}

void RequestContext::Add(std::string_view key, std::string value) {
  keys_[ToLower(key)].push_back(std::move(value));
}

void RequestContext::Erase(std::string_view key) {
  auto it = keys_.find(std::string_view(ToLower(key)));
  if (it != keys_.end()) keys_.erase(it);
}

void RequestContext::SetRequestTime(int64_t epoch_millis) {
  int64_t seconds = epoch_millis / 1000;
  if (epoch_millis < 0 && epoch_millis % 1000 != 0) --seconds;
  Set("aws:CurrentTime", FormatIso8601(seconds));
  Set("aws:EpochTime", std::to_string(seconds));
}

const std::vector<std::string>* RequestContext::Find(std::string_view key) const {
  return FindLower(ToLower(key));
}

const std::vector<std::string>* RequestContext::FindLower(std::string_view lower_key) const {
  auto it = keys_.find(lower_key);
  if (it == keys_.end() || it->second.empty()) return nullptr;
  return &it->second;
}

}  // namespace meridian::iam::policy
