#include "iam/policy/pattern.h"

#include "iam/policy/request_context.h"
#include "iam/policy/text.h"

namespace meridian::iam::policy {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Parses the inside of "${...}" as "key" or "key, 'default'". Returns false when malformed (the
// text is then kept literally).
bool ParseVariable(std::string_view inner, std::string_view& key, std::optional<std::string_view>& fallback) {
  size_t comma = inner.find(',');
  key = Trim(inner.substr(0, comma));
  if (key.empty() || key.find_first_of("${}'") != std::string_view::npos) return false;
  if (comma == std::string_view::npos) return true;
  std::string_view rest = Trim(inner.substr(comma + 1));
  if (rest.size() < 2 || rest.front() != '\'' || rest.back() != '\'') return false;
  rest = rest.substr(1, rest.size() - 2);
  if (rest.find('\'') != std::string_view::npos) return false;
  fallback = rest;
  return true;
}

}  // namespace

Pattern Pattern::Compile(std::string_view source, Options options) {
  Pattern p;
  p.source_ = std::string(source);
  std::string text;
  auto flush = [&] {
    if (!text.empty()) p.pieces_.push_back(Piece{Kind::kText, std::move(text), std::nullopt});
    text.clear();
  };
  auto fold = [&](char c) { return options.lower ? LowerChar(c) : c; };
  for (size_t i = 0; i < source.size();) {
    char c = source[i];
    if (options.variables && c == '$' && i + 1 < source.size() && source[i + 1] == '{') {
      size_t close = source.find('}', i + 2);
      if (close != std::string_view::npos) {
        std::string_view inner = source.substr(i + 2, close - i - 2);
        if (inner == "*" || inner == "?" || inner == "$") {  // escapes: always literal
          text.push_back(inner[0]);
          i = close + 1;
          continue;
        }
        std::string_view key;
        std::optional<std::string_view> fallback;
        if (ParseVariable(inner, key, fallback)) {
          flush();
          Piece v{Kind::kVariable, ToLower(key), std::nullopt};
          if (fallback) {
            std::string f(*fallback);
            if (options.lower) f = ToLower(f);
            v.fallback = std::move(f);
          }
          p.pieces_.push_back(std::move(v));
          p.has_variables_ = true;
          i = close + 1;
          continue;
        }
      }
    }
    if (options.wildcards && c == '*') {
      flush();
      if (p.pieces_.empty() || p.pieces_.back().kind != Kind::kStar)
        p.pieces_.push_back(Piece{Kind::kStar, {}, std::nullopt});
      p.has_wildcards_ = true;
    } else if (options.wildcards && c == '?') {
      flush();
      p.pieces_.push_back(Piece{Kind::kQuestion, {}, std::nullopt});
      p.has_wildcards_ = true;
    } else {
      text.push_back(fold(c));
    }
    ++i;
  }
  flush();
  p.is_any_ = p.pieces_.size() == 1 && p.pieces_[0].kind == Kind::kStar;
  if (!p.has_wildcards_ && !p.has_variables_) {
    p.shape_ = Shape::kLiteral;
  } else if (!p.has_variables_ && p.pieces_.size() == 2 && p.pieces_[0].kind == Kind::kText &&
             p.pieces_[1].kind == Kind::kStar) {
    p.shape_ = Shape::kPrefix;
  }
  return p;
}

namespace {

// The single value of `key`, or nullptr (absent or multivalued: not usable as a variable).
const std::string_view* VariableValue(const RequestContext* context, const std::string& key) {
  if (!context) return nullptr;
  ContextValues values = context->FindLower(key);
  return values.size() == 1 ? &values[0] : nullptr;
}

}  // namespace

bool Pattern::Resolvable(const RequestContext* context) const {
  if (!has_variables_) return true;
  for (const Piece& piece : pieces_) {
    if (piece.kind == Kind::kVariable && !piece.fallback && !VariableValue(context, piece.text)) return false;
  }
  return true;
}

MatchResult Pattern::Match(std::string_view s, bool ignore_case, const RequestContext* context) const {
  if (is_any_) return MatchResult::kMatch;
  auto eq = [ignore_case](char a, char b) { return ignore_case ? LowerChar(a) == LowerChar(b) : a == b; };
  if (shape_ == Shape::kLiteral) {  // the common cases first
    if (pieces_.empty()) return s.empty() ? MatchResult::kMatch : MatchResult::kNoMatch;
    const std::string& lit = pieces_[0].text;
    bool same = ignore_case ? EqualsIgnoreCase(lit, s) : lit == s;
    return same ? MatchResult::kMatch : MatchResult::kNoMatch;
  }
  if (shape_ == Shape::kPrefix) {
    const std::string& prefix = pieces_[0].text;
    if (s.size() < prefix.size()) return MatchResult::kNoMatch;
    std::string_view head = s.substr(0, prefix.size());
    bool same = ignore_case ? EqualsIgnoreCase(prefix, head) : head == prefix;
    return same ? MatchResult::kMatch : MatchResult::kNoMatch;
  }

  // Resolve variables to literal text first (on the stack for patterns of usual size).
  constexpr size_t kInline = 16;
  std::string_view inline_resolved[kInline];
  std::vector<std::string_view> heap_resolved;
  std::string_view* resolved = inline_resolved;
  if (has_variables_) {
    if (pieces_.size() > kInline) {
      heap_resolved.resize(pieces_.size());
      resolved = heap_resolved.data();
    }
    for (size_t i = 0; i < pieces_.size(); ++i) {
      const Piece& piece = pieces_[i];
      if (piece.kind != Kind::kVariable) continue;
      if (const std::string_view* value = VariableValue(context, piece.text)) {
        resolved[i] = *value;
      } else if (piece.fallback) {
        resolved[i] = *piece.fallback;
      } else {
        return MatchResult::kUnresolved;
      }
    }
  }
  auto literal = [&](size_t i) -> std::string_view {
    return pieces_[i].kind == Kind::kVariable ? resolved[i] : std::string_view(pieces_[i].text);
  };
  auto is_text = [&](size_t i) {
    return pieces_[i].kind == Kind::kText || pieces_[i].kind == Kind::kVariable;
  };

  // Greedy wildcard matching with backtracking to the last '*' (linear in practice), over pieces.
  const size_t n = s.size(), count = pieces_.size();
  size_t p = 0, off = 0, t = 0;
  bool have_star = false;
  size_t star_p = 0, star_t = 0;
  for (;;) {
    while (p < count && off == 0 && is_text(p) && literal(p).empty()) ++p;
    if (t == n) break;
    if (p < count) {
      Kind kind = pieces_[p].kind;
      if (kind == Kind::kText || kind == Kind::kVariable) {
        std::string_view lit = literal(p);
        if (eq(lit[off], s[t])) {
          ++t;
          if (++off == lit.size()) {
            ++p;
            off = 0;
          }
          continue;
        }
      } else if (kind == Kind::kQuestion) {
        ++p;
        ++t;
        continue;
      } else {  // kStar
        have_star = true;
        star_p = p;
        star_t = t;
        ++p;
        off = 0;
        continue;
      }
    }
    if (!have_star) return MatchResult::kNoMatch;
    p = star_p + 1;
    off = 0;
    t = ++star_t;
  }
  if (off != 0) return MatchResult::kNoMatch;
  while (p < count && (pieces_[p].kind == Kind::kStar || (is_text(p) && literal(p).empty()))) ++p;
  return p == count ? MatchResult::kMatch : MatchResult::kNoMatch;
}

}  // namespace meridian::iam::policy
