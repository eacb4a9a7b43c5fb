// AWS KMS key identifiers: ARN parsing and multi-Region key (MRK) matching.
// spec: framework/aws-kms/aws-kms-key-arn.md, aws-kms-mrk-match-for-decrypt.md
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace meridian::sdk {

struct KmsArn {
  std::string partition;
  std::string service;  // "kms"
  std::string region;
  std::string account;
  std::string resource_type;  // "key" or "alias"
  std::string resource_id;

  // A multi-Region key: resource type "key" and an id starting with "mrk-".
  bool is_mrk() const { return resource_type == "key" && resource_id.rfind("mrk-", 0) == 0; }
  std::string ToString() const;
  KmsArn WithRegion(std::string r) const {
    KmsArn c = *this;
    c.region = std::move(r);
    return c;
  }
};

// nullopt unless `text` is arn:<partition>:kms:<region>:<account>:(key|alias)/<id> with no part empty.
std::optional<KmsArn> ParseKmsArn(std::string_view text);

// True if `identifier` (ARN, alias, or raw key id) names an MRK.
bool IsMrkIdentifier(std::string_view identifier);

// Two identifiers match for decrypt if they are equal, or both are MRK ARNs that differ only in
// region. spec: framework/aws-kms/aws-kms-mrk-match-for-decrypt.md
bool MrkMatchForDecrypt(std::string_view configured, std::string_view message_key);

}  // namespace meridian::sdk
