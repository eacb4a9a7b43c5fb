#include "iam/policy/arn.h"

namespace meridian::iam::policy {

bool SplitArn(std::string_view arn, std::array<std::string_view, 6>& parts) {
  size_t start = 0;
  for (size_t i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts[i] = arn.substr(start, colon - start);
    start = colon + 1;
  }
  parts[5] = arn.substr(start);
  return true;
}

namespace {

// Like SplitArn, but a colon inside "${...}" does not split (a variable such as
// ${aws:username} contains one).
bool SplitArnPattern(std::string_view src, bool skip_variables, std::array<std::string_view, 6>& parts) {
  size_t start = 0, i = 0;
  size_t part = 0;
  while (part < 5 && i < src.size()) {
    if (skip_variables && src[i] == '$' && i + 1 < src.size() && src[i + 1] == '{') {
      size_t close = src.find('}', i + 2);
      if (close != std::string_view::npos) {
        i = close + 1;
        continue;
      }
    }
    if (src[i] == ':') {
      parts[part++] = src.substr(start, i - start);
      start = i + 1;
    }
    ++i;
  }
  if (part < 5) return false;
  parts[5] = src.substr(start);
  return true;
}

}  // namespace

bool ArnPattern::Compile(std::string_view source, VariableScope variables, ArnPattern& out) {
  out = ArnPattern();
  out.source_ = std::string(source);
  if (source == "*") {
    out.is_any_ = true;
    return true;
  }
  std::array<std::string_view, 6> parts;
  if (!SplitArnPattern(source, variables != VariableScope::kNone, parts)) return false;
  if (parts[0] != "arn") return false;
  for (size_t i = 0; i < 6; ++i) {
    bool vars = variables == VariableScope::kAllParts || (variables == VariableScope::kResourcePart && i == 5);
    out.parts_[i] = Pattern::Compile(parts[i], {.wildcards = true, .variables = vars, .lower = false});
    out.has_variables_ = out.has_variables_ || out.parts_[i].has_variables();
  }
  return true;
}

bool ArnPattern::Resolvable(const RequestContext* context) const {
  for (const Pattern& part : parts_)
    if (!part.Resolvable(context)) return false;
  return true;
}

MatchResult ArnPattern::Match(std::string_view arn, const RequestContext* context) const {
  if (is_any_) return MatchResult::kMatch;
  std::array<std::string_view, 6> parts;
  if (!SplitArn(arn, parts)) return MatchResult::kNoMatch;
  for (size_t i = 0; i < 6; ++i) {
    MatchResult r = parts_[i].Match(parts[i], /*ignore_case=*/false, context);
    if (r != MatchResult::kMatch) return r;
  }
  return MatchResult::kMatch;
}

}  // namespace meridian::iam::policy
