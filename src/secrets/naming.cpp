#include "secrets/naming.h"

#include <algorithm>
#include <cctype>

#include "crypto/crypto.h"
#include "secrets/errors.h"

namespace meridian::secrets {
namespace {

constexpr std::string_view kAlphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

bool IsNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("/_+=.@-").find(c) != std::string_view::npos;
}

bool IsSuffix(std::string_view s) {
  return s.size() == kArnSuffixLength &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
}

}  // namespace

Status ValidateSecretName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength || !std::all_of(name.begin(), name.end(), IsNameChar))
    return err::InvalidParameter(
        "Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!");
  return Status::Ok();
}

std::string NewArnSuffix() {
  // Rejection sampling: bytes >= 248 (4 * 62) would bias the low characters.
  std::string out;
  while (out.size() < kArnSuffixLength) {
    uint8_t buf[16];
    crypto::RandomFill(buf);
    for (uint8_t b : buf) {
      if (b >= 248 || out.size() == kArnSuffixLength) continue;
      out.push_back(kAlphanumerics[b % kAlphanumerics.size()]);
    }
  }
  return out;
}

std::string SecretArn(const SecretLocation& where, std::string_view name, std::string_view suffix) {
  return "arn:" + where.partition + ":secretsmanager:" + where.region + ":" + where.account_id + ":secret:" +
         std::string(name) + "-" + std::string(suffix);
}

namespace {
// Offsets of the region field of "arn:partition:secretsmanager:region:...": [begin, end).
bool RegionField(std::string_view arn, size_t& begin, size_t& end) {
  if (arn.rfind("arn:", 0) != 0) return false;
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return false;
    ++pos;
  }
  begin = pos;
  end = arn.find(':', begin);
  return end != std::string_view::npos;
}
}  // namespace

std::string ArnRegion(std::string_view arn) {
  size_t begin = 0, end = 0;
  if (!RegionField(arn, begin, end)) return {};
  return std::string(arn.substr(begin, end - begin));
}

std::string ArnInRegion(std::string_view arn, std::string_view region) {
  size_t begin = 0, end = 0;
  if (!RegionField(arn, begin, end)) return std::string(arn);
  return std::string(arn.substr(0, begin)) + std::string(region) + std::string(arn.substr(end));
}

std::vector<SecretIdCandidate> ReadSecretId(std::string_view secret_id, const SecretLocation& here) {
  if (secret_id.rfind("arn:", 0) != 0) return {{std::string(secret_id), std::nullopt}};
  // arn:partition:secretsmanager:region:account:secret:<rest>
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (int i = 0; i < 6; ++i) {
    size_t colon = secret_id.find(':', start);
    if (colon == std::string_view::npos) return {};
    parts.push_back(secret_id.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view rest = secret_id.substr(start);
  if (parts[1] != here.partition || parts[2] != "secretsmanager" || parts[3] != here.region ||
      parts[4] != here.account_id || parts[5] != "secret" || rest.empty())
    return {};
  std::vector<SecretIdCandidate> out;
  if (rest.size() > kArnSuffixLength + 1 && rest[rest.size() - kArnSuffixLength - 1] == '-' &&
      IsSuffix(rest.substr(rest.size() - kArnSuffixLength)))
    out.push_back({std::string(rest.substr(0, rest.size() - kArnSuffixLength - 1)), std::string(secret_id)});
  out.push_back({std::string(rest), std::nullopt});
  return out;
}

}  // namespace meridian::secrets
