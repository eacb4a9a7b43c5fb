#include "iam/policy/request_context.h"

#include <algorithm>
#include <cstring>
#include <utility>

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

namespace {
constexpr size_t kArenaBlock = 1024;
}

std::string_view RequestContext::Arena::Copy(std::string_view text, bool lower) {
  if (text.empty()) return {};
  if (text.size() > left_) {
    size_t size = std::max(kArenaBlock, text.size());
    blocks_.push_back(std::make_unique<char[]>(size));
    next_ = blocks_.back().get();
    left_ = size;
  }
  char* out = next_;
  if (lower) {
    for (size_t i = 0; i < text.size(); ++i) out[i] = LowerChar(text[i]);
  } else {
    std::memcpy(out, text.data(), text.size());
  }
  next_ += text.size();
  left_ -= text.size();
  return {out, text.size()};
}

RequestContext::RequestContext(Principal principal, std::string_view action, std::string_view resource)
    : RequestContext(std::make_shared<const Principal>(std::move(principal)), action, resource) {}

RequestContext::RequestContext(std::shared_ptr<const Principal> principal, std::string_view action,
                               std::string_view resource)
    : principal_(std::move(principal)) {
  entries_.reserve(16);
  values_.reserve(24);
  action_ = arena_.Copy(action);
  action_lower_ = arena_.Copy(action, /*lower=*/true);
  resource_ = arena_.Copy(resource);
  const Principal& p = *principal_;
  // Principal-derived global keys (IAM User Guide, "AWS global condition context keys"). The
  // principal is immutable and owned here, so its strings are referenced, not copied.
  switch (p.type) {
    case PrincipalType::kAnonymous:
      SetStable("aws:principaltype", "Anonymous");
      break;
    case PrincipalType::kService:
      SetStable("aws:principalservicename", p.service);
      SetStable("aws:principalisawsservice", "true");
      break;
    case PrincipalType::kFederated:
      break;
    case PrincipalType::kRoot:
    case PrincipalType::kUser:
    case PrincipalType::kAssumedRole:
    case PrincipalType::kFederatedUser:
      SetStable("aws:principaltype", PrincipalTypeName(p.type));
      SetStable("aws:principalisawsservice", "false");
      // aws:PrincipalArn: for a role session, the ARN of the role (not of the session).
      SetStable("aws:principalarn", p.type == PrincipalType::kAssumedRole ? p.role_arn : p.arn);
      SetStable("aws:principalaccount", p.account);
      break;
  }
  if (!p.user_id.empty()) SetStable("aws:userid", p.user_id);
  if (p.type == PrincipalType::kUser && !p.user_name.empty()) SetStable("aws:username", p.user_name);
  for (const auto& [key, value] : p.tags) {
    std::string name = "aws:principaltag/" + ToLower(key);
    SetStable(arena_.Copy(name), value);
  }
}

const RequestContext::Entry* RequestContext::FindEntry(std::string_view lower_key) const {
  for (const Entry& e : entries_)
    if (e.key.size() == lower_key.size() && e.key == lower_key) return &e;
  return nullptr;
}

RequestContext::Entry* RequestContext::FindEntry(std::string_view lower_key) {
  return const_cast<Entry*>(std::as_const(*this).FindEntry(lower_key));
}

RequestContext::Entry& RequestContext::EntryFor(std::string_view key) {
  // Lower-case into a small stack buffer for the lookup; copy into the arena only when new.
  char buf[128];
  std::string lowered_heap;
  std::string_view lower;
  if (key.size() <= sizeof buf) {
    for (size_t i = 0; i < key.size(); ++i) buf[i] = LowerChar(key[i]);
    lower = std::string_view(buf, key.size());
  } else {
    lowered_heap = ToLower(key);
    lower = lowered_heap;
  }
  if (Entry* e = FindEntry(lower)) return *e;
  entries_.push_back(Entry{arena_.Copy(lower), 0, 0});
  return entries_.back();
}

void RequestContext::SetStable(std::string_view lower_key, std::string_view value) {
  entries_.push_back(Entry{lower_key, static_cast<uint32_t>(values_.size()), 1});
  values_.push_back(value);
}

void RequestContext::Set(std::string_view key, std::string_view value) {
  Entry& e = EntryFor(key);
  e.begin = static_cast<uint32_t>(values_.size());
  e.count = 1;
  values_.push_back(arena_.Copy(value));
}

void RequestContext::SetValues(std::string_view key, std::span<const std::string> values) {
  Entry& e = EntryFor(key);
  e.begin = static_cast<uint32_t>(values_.size());
  e.count = static_cast<uint32_t>(values.size());
  for (const std::string& v : values) values_.push_back(arena_.Copy(v));
}

void RequestContext::SetValues(std::string_view key, std::initializer_list<std::string_view> values) {
  Entry& e = EntryFor(key);
  e.begin = static_cast<uint32_t>(values_.size());
  e.count = static_cast<uint32_t>(values.size());
  for (std::string_view v : values) values_.push_back(arena_.Copy(v));
}

void RequestContext::Add(std::string_view key, std::string_view value) {
  Entry& e = EntryFor(key);
  // Keep the key's values contiguous: move them to the end when something was added after them.
  if (e.count > 0 && e.begin + e.count != values_.size()) {
    uint32_t begin = static_cast<uint32_t>(values_.size());
    for (uint32_t i = 0; i < e.count; ++i) values_.push_back(values_[e.begin + i]);
    e.begin = begin;
  } else if (e.count == 0) {
    e.begin = static_cast<uint32_t>(values_.size());
  }
  values_.push_back(arena_.Copy(value));
  ++e.count;
}

void RequestContext::Erase(std::string_view key) {
  std::string lower = ToLower(key);
  if (Entry* e = FindEntry(lower)) e->count = 0;
}

void RequestContext::SetRequestTime(int64_t epoch_millis) {
  int64_t seconds = epoch_millis / 1000;
  if (epoch_millis < 0 && epoch_millis % 1000 != 0) --seconds;
  Set("aws:CurrentTime", FormatIso8601(seconds));
  Set("aws:EpochTime", std::to_string(seconds));
}

ContextValues RequestContext::Find(std::string_view key) const { return FindLower(ToLower(key)); }

ContextValues RequestContext::FindLower(std::string_view lower_key) const {
  const Entry* e = FindEntry(lower_key);
  if (!e || e->count == 0) return {};
  return ContextValues(values_.data() + e->begin, e->count);
}

bool RequestContext::AssumeIfUnknown(std::string_view lower_key) const {
  bool unknown = false;
  for (const std::string& prefix : unknown_prefixes_)
    if (lower_key.substr(0, prefix.size()) == prefix) unknown = true;
  if (!unknown || !FindLower(lower_key).empty()) return false;
  if (assumed_ && std::find(assumed_->begin(), assumed_->end(), lower_key) == assumed_->end())
    assumed_->emplace_back(lower_key);
  return true;
}

}  // namespace meridian::iam::policy
