// ARN matching as IAM does it: segment by segment.
//
// IAM User Guide: "Resource" element — wildcards '*' and '?' may appear "within any ARN segment
// (the parts separated by colons)"; variables only "in the resource portion of the ARN", after
// the fifth colon. "Condition operators" > ArnEquals/ArnLike — "Each of the six colon-delimited
// components of the ARN is checked separately and each can include" wildcards; a '*' in one
// component never matches across a colon into the next one. The sixth component (the resource
// part) is everything after the fifth colon and may itself contain colons
// ("secret:name-AbCdEf").
#pragma once

#include <array>
#include <string_view>

#include "iam/policy/pattern.h"

namespace meridian::iam::policy {

// Splits `arn` into its six components. False when it is not "arn:...:...:...:...:..." (fewer
// than five colons).
bool SplitArn(std::string_view arn, std::array<std::string_view, 6>& parts);

class ArnPattern {
 public:
  enum class VariableScope { kNone, kResourcePart, kAllParts };

  ArnPattern() = default;
  // `source` is "*" or an ARN with six components (colons inside "${...}" do not split).
  // Returns false when it is neither.
  static bool Compile(std::string_view source, VariableScope variables, ArnPattern& out);

  MatchResult Match(std::string_view arn, const RequestContext* context) const;
  bool Resolvable(const RequestContext* context) const;
  bool has_variables() const { return has_variables_; }

  bool is_any() const { return is_any_; }
  const std::string& source() const { return source_; }
  const Pattern& part(size_t i) const { return parts_[i]; }  // 0 "arn", 1 partition, 2 service,
                                                            // 3 region, 4 account, 5 resource

 private:
  std::string source_;
  bool is_any_ = false;
  bool has_variables_ = false;  // some part uses a policy variable
  std::array<Pattern, 6> parts_;
};

}  // namespace meridian::iam::policy
