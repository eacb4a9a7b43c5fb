// Secret names, ARNs and the forms a SecretId may take.
//
// A secret's ARN is arn:<partition>:secretsmanager:<region>:<account>:secret:<name>-<suffix>,
// where the suffix is six random alphanumerics chosen at creation, so that a secret deleted and
// created again under the same name has a different ARN. A SecretId names a secret by its name,
// its full ARN, or a partial ARN (the ARN without the "-<suffix>").
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace meridian::secrets {

inline constexpr size_t kMaxNameLength = 512;
inline constexpr size_t kArnSuffixLength = 6;

// Names are 1 to 512 characters of ASCII letters, digits and /_+=.@-
Status ValidateSecretName(std::string_view name);

// Six random characters of [A-Za-z0-9], drawn without bias.
std::string NewArnSuffix();

struct SecretLocation {
  std::string partition;
  std::string region;
  std::string account_id;
};

std::string SecretArn(const SecretLocation& where, std::string_view name, std::string_view suffix);

// The region field of a secret ARN (empty when `arn` is not an ARN), and the same ARN in another
// region: a replica's ARN is its primary's with the region changed.
std::string ArnRegion(std::string_view arn);
std::string ArnInRegion(std::string_view arn, std::string_view region);

// One way to read a SecretId: look the secret up by `name`; if `required_arn` is set, the
// secret found must have exactly that ARN.
struct SecretIdCandidate {
  std::string name;
  std::optional<std::string> required_arn;
};

// The readings of `secret_id`, most specific first: a full ARN, then a partial ARN, or a plain
// name. An ARN naming another partition, service, region or account has no reading (the secret
// cannot be here), and neither has a malformed ARN.
std::vector<SecretIdCandidate> ReadSecretId(std::string_view secret_id, const SecretLocation& here);

}  // namespace meridian::secrets
