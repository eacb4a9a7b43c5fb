// Pattern: a policy string compiled once, with '*' / '?' wildcards and policy variables.
//
// IAM User Guide rules implemented here:
//  - "Condition operators" > StringLike / ArnLike and "Resource": '*' matches any run of
//    characters (including none), '?' exactly one character.
//  - "Variables and tags": with Version 2012-10-17, "${key}" is replaced by the request's value of
//    `key` (case-insensitive key lookup); "${key, 'default'}" uses `default` when the key is
//    absent; "${*}", "${?}" and "${$}" stand for a literal '*', '?' and '$'. A variable whose key
//    is absent (or multivalued) and has no default cannot be resolved; the IAM User Guide says
//    this "causes the statement to be invalid", so Match reports kUnresolved and the caller treats
//    the whole statement as not applying. Substituted values are always literal text.
//  - With Version 2008-10-17 (or where variables are not allowed), "${...}" is literal text.
//
// Immutable after Compile; Match is const, thread-safe and does not allocate.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace meridian::iam::policy {

class RequestContext;

enum class MatchResult : uint8_t { kNoMatch, kMatch, kUnresolved };

class Pattern {
 public:
  struct Options {
    bool wildcards = false;  // '*' and '?' are wildcards (otherwise literal characters)
    bool variables = false;  // "${...}" is a policy variable (Version 2012-10-17 only)
    bool lower = false;      // fold the pattern's literal text to lower case at compile time
  };

  Pattern() = default;
  static Pattern Compile(std::string_view source, Options options);

  // Matches `text` (all of it). With ignore_case, literal text and substituted values compare
  // case-insensitively. `context` resolves variables and may be null when the pattern has none.
  MatchResult Match(std::string_view text, bool ignore_case, const RequestContext* context) const;
  // False when a variable has no value in `context` and no default.
  bool Resolvable(const RequestContext* context) const;

  const std::string& source() const { return source_; }
  bool has_variables() const { return has_variables_; }
  bool has_wildcards() const { return has_wildcards_; }
  bool is_any() const { return is_any_; }  // exactly "*" with wildcards on: matches everything

 private:
  enum class Kind : uint8_t { kText, kStar, kQuestion, kVariable };
  struct Piece {
    Kind kind;
    std::string text;                   // kText: literal; kVariable: lower-case key
    std::optional<std::string> fallback;  // kVariable: the default value, if any
  };

  // Precomputed fast paths for the common shapes (no variables).
  enum class Shape : uint8_t { kLiteral, kPrefix, kGeneral };  // "abc", "abc*", anything else

  std::string source_;
  std::vector<Piece> pieces_;
  Shape shape_ = Shape::kGeneral;
  bool has_variables_ = false;
  bool has_wildcards_ = false;
  bool is_any_ = false;
};

}  // namespace meridian::iam::policy
