#include "sdk/kms_arn.h"

#include <vector>

namespace meridian::sdk {

std::string KmsArn::ToString() const {
  return "arn:" + partition + ":" + service + ":" + region + ":" + account + ":" + resource_type + "/" + resource_id;
}

std::optional<KmsArn> ParseKmsArn(std::string_view text) {
  // arn:partition:service:region:account:resource (resource may contain ':' in general, not for KMS)
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = text.find(':', start);
    if (colon == std::string_view::npos) return std::nullopt;
    parts.push_back(text.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view resource = text.substr(start);
  if (parts[0] != "arn" || parts[2] != "kms") return std::nullopt;
  for (size_t i = 1; i < parts.size(); ++i)
    if (parts[i].empty()) return std::nullopt;
  size_t slash = resource.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= resource.size()) return std::nullopt;
  KmsArn arn;
  arn.partition = parts[1];
  arn.service = parts[2];
  arn.region = parts[3];
  arn.account = parts[4];
  arn.resource_type = resource.substr(0, slash);
  arn.resource_id = resource.substr(slash + 1);
  if (arn.resource_type != "key" && arn.resource_type != "alias") return std::nullopt;
  return arn;
}

bool IsMrkIdentifier(std::string_view id) {
  if (id.rfind("arn:", 0) == 0) {
    auto arn = ParseKmsArn(id);
    return arn && arn->is_mrk();
  }
  if (id.rfind("alias/", 0) == 0) return false;
  return id.rfind("mrk-", 0) == 0;
}

bool MrkMatchForDecrypt(std::string_view configured, std::string_view message_key) {
  if (configured == message_key) return true;
  auto a = ParseKmsArn(configured);
  auto b = ParseKmsArn(message_key);
  if (!a || !b || !a->is_mrk() || !b->is_mrk()) return false;
  return a->partition == b->partition && a->service == b->service && a->account == b->account &&
         a->resource_type == b->resource_type && a->resource_id == b->resource_id;
}

}  // namespace meridian::sdk
