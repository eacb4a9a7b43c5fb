#include "audit/response_audit.h"

#include <cstring>

#include <rapidjson/document.h>

#include "audit/redaction.h"
#include "crypto/crypto.h"

namespace meridian::audit {
namespace {

constexpr size_t kNotFound = std::string_view::npos;

// Index just past the string that opens at json[open] ('"'), or kNotFound if it does not end.
size_t SkipString(std::string_view json, size_t open) {
  size_t from = open + 1;
  for (;;) {
    const void* hit = from < json.size() ? std::memchr(json.data() + from, '"', json.size() - from) : nullptr;
    if (!hit) return kNotFound;
    const size_t quote = static_cast<size_t>(static_cast<const char*>(hit) - json.data());
    size_t backslashes = 0;
    while (quote - backslashes > open + 1 && json[quote - backslashes - 1] == '\\') ++backslashes;
    if (backslashes % 2 == 0) return quote + 1;
    from = quote + 1;
  }
}

// Index just past the value that starts at json[start], or kNotFound. Nested values are skipped
// by bracket depth (strings inside them skipped whole); scalars end at ',', '}' or ']'.
size_t SkipValue(std::string_view json, size_t start) {
  if (start >= json.size()) return kNotFound;
  const char first = json[start];
  if (first == '"') return SkipString(json, start);
  if (first == '{' || first == '[') {
    size_t depth = 0;
    for (size_t i = start; i < json.size();) {
      const char c = json[i];
      if (c == '"') {
        i = SkipString(json, i);
        if (i == kNotFound) return kNotFound;
        continue;
      }
      if (c == '{' || c == '[') ++depth;
      if ((c == '}' || c == ']') && --depth == 0) return i + 1;
      ++i;
    }
    return kNotFound;
  }
  size_t i = start;
  while (i < json.size() && json[i] != ',' && json[i] != '}' && json[i] != ']') ++i;
  return i == start ? kNotFound : i;
}

// `{` + the members of `json` that `keep` accepts + `}`, or false if `json` is not a compact
// object with plain member names.
template <typename Keep>
bool KeptMembers(std::string_view json, Keep keep, std::string& out) {
  if (json.size() < 2 || json.front() != '{') return false;
  out.push_back('{');
  size_t i = 1;
  if (json[i] == '}') {  // {}
    out.push_back('}');
    return json.size() == 2;
  }
  for (;;) {
    if (i >= json.size() || json[i] != '"') return false;
    const size_t name_end = SkipString(json, i);  // past the closing quote
    if (name_end == kNotFound || name_end >= json.size() || json[name_end] != ':') return false;
    const std::string_view name = json.substr(i + 1, name_end - i - 2);
    if (name.find('\\') != std::string_view::npos) return false;
    const size_t value_end = SkipValue(json, name_end + 1);
    if (value_end == kNotFound || value_end >= json.size()) return false;
    if (keep(name)) {
      if (out.size() > 1) out.push_back(',');
      out.append(json.substr(i, value_end - i));
    }
    i = value_end;
    if (json[i] == '}') {
      if (i + 1 != json.size()) return false;
      out.push_back('}');
      return true;
    }
    if (json[i] != ',') return false;
    ++i;
  }
}

}  // namespace

ResponseAudit AuditResponse(std::string_view event_source, const ResourceContext& context, std::string_view json) {
  // In-situ parsing decodes strings inside `text` (no copy in the document's allocator), so
  // wiping `text` wipes every parsed string.
  std::string text;
  text.reserve(json.size() + 1);
  const bool pruned = KeptMembers(
      json,
      [&](std::string_view name) {
        return IsRecordedMember(event_source, name) || IsResourceResponseMember(event_source, name);
      },
      text);
  if (!pruned) text.assign(json);
  ResponseAudit out;
  rapidjson::Document doc;
  doc.ParseInsitu(text.data());
  if (!doc.HasParseError()) {
    out.response_elements = RedactMessage(event_source, doc);
    out.resources = InferResources(event_source, context, nullptr, &doc);
    WipeStrings(doc);
  }
  crypto::Cleanse(text.data(), text.size());
  return out;
}

}  // namespace meridian::audit
