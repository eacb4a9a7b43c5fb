#include "server/query_protocol.h"

#include <algorithm>
#include <cstdio>
#include <set>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "common/encoding.h"

namespace meridian::server::query {
namespace {

Status Malformed(std::string message) { return Status("MalformedQueryString", std::move(message), 400); }
Status InvalidParameter(std::string message) { return Status("InvalidQueryParameter", std::move(message), 400); }

// ---- UTF-8 ----------------------------------------------------------------------------------------

// Length of the well-formed UTF-8 sequence starting at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when it is not one. Sets `code_point`.
size_t Utf8SequenceAt(std::string_view s, size_t i, uint32_t& code_point) {
  const auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  const uint8_t b0 = byte(i);
  if (b0 < 0x80) {
    code_point = b0;
    return 1;
  }
  size_t len;
  uint32_t min;
  if ((b0 & 0xE0) == 0xC0) {
    len = 2, min = 0x80, code_point = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, min = 0x800, code_point = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, min = 0x10000, code_point = b0 & 0x07;
  } else {
    return 0;
  }
  if (s.size() - i < len) return 0;
  for (size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  if (code_point < min || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return 0;
  return len;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    const size_t n = Utf8SequenceAt(s, i, cp);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// application/x-www-form-urlencoded: '+' is a space, %XX an escaped byte.
std::optional<std::string> FormDecode(std::string_view raw) {
  std::string plus_as_space(raw);
  std::replace(plus_as_space.begin(), plus_as_space.end(), '+', ' ');
  return UriDecode(plus_as_space);
}

// ---- The key tree -----------------------------------------------------------------------------

// One node per key prefix. A node is exactly one of: a scalar, a structure (named members), a
// list (X.member.N) or a map (X.entry.N.key/value, each entry a structure node).
struct Node {
  enum class Kind { kUnset, kScalar, kStruct, kList, kMap } kind = Kind::kUnset;
  std::string scalar;
  std::map<std::string, Node, std::less<>> members;  // kStruct
  std::map<uint32_t, Node> items;                    // kList: items; kMap: entries (structures)
};

std::string_view KindName(Node::Kind k) {
  switch (k) {
    case Node::Kind::kScalar: return "a value";
    case Node::Kind::kStruct: return "a structure";
    case Node::Kind::kList: return "a list";
    case Node::Kind::kMap: return "a map";
    case Node::Kind::kUnset: break;
  }
  return "nothing";
}

std::optional<uint32_t> ParseIndex(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 9 || s[0] == '0') return std::nullopt;
  uint32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint32_t>(c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool IsMemberName(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
      return false;
  return true;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(const ParseLimits& limits) : limits_(limits) { root_.kind = Node::Kind::kStruct; }

  Status Insert(std::string_view key, std::string value) {
    std::vector<std::string_view> segments;
    for (size_t start = 0;;) {
      const size_t dot = key.find('.', start);
      segments.push_back(key.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start));
      if (dot == std::string_view::npos) break;
      start = dot + 1;
      if (segments.size() >= limits_.max_key_segments)
        return InvalidParameter("The parameter " + std::string(key) + " has more than " +
                                std::to_string(limits_.max_key_segments) + " parts.");
    }
    Node* node = &root_;
    for (size_t i = 0; i < segments.size();) {
      const std::string_view seg = segments[i];
      if (seg == "member" || seg == "entry") {
        const bool list = seg == "member";
        const auto index = i + 1 < segments.size() ? ParseIndex(segments[i + 1], limits_.max_list_index) : std::nullopt;
        if (!index)
          return InvalidParameter("The parameter " + std::string(key) + " needs a list index from 1 to " +
                                  std::to_string(limits_.max_list_index) + " after '" + std::string(seg) + "'.");
        const Node::Kind kind = list ? Node::Kind::kList : Node::Kind::kMap;
        MERIDIAN_RETURN_IF_ERROR(Become(*node, kind, key));
        node = &node->items[*index];
        i += 2;
        if (!list) {
          // A map entry is a structure with exactly "key" and "value".
          if (i >= segments.size() || (segments[i] != "key" && segments[i] != "value"))
            return InvalidParameter("The parameter " + std::string(key) + " must end in .key or .value.");
        }
        continue;
      }
      if (!IsMemberName(seg))
        return InvalidParameter("The parameter name " + std::string(key) + " is not valid.");
      MERIDIAN_RETURN_IF_ERROR(Become(*node, Node::Kind::kStruct, key));
      node = &node->members.try_emplace(std::string(seg)).first->second;
      ++i;
    }
    if (node->kind != Node::Kind::kUnset)
      return InvalidParameter("The parameter " + std::string(key) + " is given more than once or conflicts with " +
                              "another parameter.");
    node->kind = Node::Kind::kScalar;
    node->scalar = std::move(value);
    return Status::Ok();
  }

  Node& root() { return root_; }

 private:
  static Status Become(Node& node, Node::Kind kind, std::string_view key) {
    if (node.kind == Node::Kind::kUnset) node.kind = kind;
    if (node.kind != kind)
      return InvalidParameter("The parameter " + std::string(key) + " makes a member " + std::string(KindName(kind)) +
                              " that another parameter made " + std::string(KindName(node.kind)) + ".");
    return Status::Ok();
  }

  const ParseLimits& limits_;
  Node root_;
};

using Allocator = rapidjson::Document::AllocatorType;

Status ToJson(const Node& node, std::string_view name, rapidjson::Value& out, Allocator& a) {
  switch (node.kind) {
    case Node::Kind::kUnset:  // not reachable: every node on a key's path gets a kind
    case Node::Kind::kScalar:
      out.SetString(node.scalar.data(), static_cast<rapidjson::SizeType>(node.scalar.size()), a);
      return Status::Ok();
    case Node::Kind::kStruct:
      out.SetObject();
      for (const auto& [member, child] : node.members) {
        rapidjson::Value v;
        MERIDIAN_RETURN_IF_ERROR(ToJson(child, member, v, a));
        out.AddMember(rapidjson::Value(member.data(), static_cast<rapidjson::SizeType>(member.size()), a), v, a);
      }
      return Status::Ok();
    case Node::Kind::kList:
      out.SetArray();
      for (const auto& [index, child] : node.items) {
        rapidjson::Value v;
        MERIDIAN_RETURN_IF_ERROR(ToJson(child, name, v, a));
        out.PushBack(v, a);
      }
      return Status::Ok();
    case Node::Kind::kMap: {
      out.SetObject();
      std::set<std::string_view> keys;
      for (const auto& [index, entry] : node.items) {
        auto key = entry.members.find("key");
        auto value = entry.members.find("value");
        if (key == entry.members.end() || key->second.kind != Node::Kind::kScalar)
          return InvalidParameter("The map " + std::string(name) + " has an entry " + std::to_string(index) +
                                  " without a key.");
        if (!keys.insert(key->second.scalar).second)
          return InvalidParameter("The map " + std::string(name) + " has the key " + key->second.scalar + " twice.");
        rapidjson::Value v;
        if (value == entry.members.end())
          v.SetString("", a);
        else
          MERIDIAN_RETURN_IF_ERROR(ToJson(value->second, name, v, a));
        out.AddMember(rapidjson::Value(key->second.scalar.data(),
                                       static_cast<rapidjson::SizeType>(key->second.scalar.size()), a),
                      v, a);
      }
      return Status::Ok();
    }
  }
  return Status::Ok();
}

// ---- XML ------------------------------------------------------------------------------------------

bool Contains(std::span<const std::string_view> names, std::string_view name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

void OpenTag(std::string& out, std::string_view name) {
  out += '<';
  out += name;
  out += '>';
}
void CloseTag(std::string& out, std::string_view name) {
  out += "</";
  out += name;
  out += '>';
}

void AppendScalarText(std::string& out, const rapidjson::Value& v) {
  if (v.IsString()) {
    AppendXmlEscaped(out, std::string_view(v.GetString(), v.GetStringLength()));
  } else if (v.IsBool()) {
    out += v.GetBool() ? "true" : "false";
  } else if (v.IsInt64()) {
    out += std::to_string(v.GetInt64());
  } else if (v.IsUint64()) {
    out += std::to_string(v.GetUint64());
  } else if (v.IsDouble()) {
    char buf[64];
    const int n = std::snprintf(buf, sizeof buf, "%.17g", v.GetDouble());
    out.append(buf, n > 0 ? static_cast<size_t>(n) : 0);
  }
}

// Element names come from the service's output (member names it wrote) and are trusted to be
// XML names; map keys and all text are escaped. Depth is bounded by the service's output.
void AppendElement(std::string& out, const Dialect& d, std::string_view name, const rapidjson::Value& v);

void AppendContent(std::string& out, const Dialect& d, std::string_view name, const rapidjson::Value& v) {
  if (v.IsArray()) {
    for (const auto& e : v.GetArray()) AppendElement(out, d, "member", e);
  } else if (v.IsObject() && Contains(d.map_members, name)) {
    for (const auto& m : v.GetObject()) {
      out += "<entry><key>";
      AppendXmlEscaped(out, std::string_view(m.name.GetString(), m.name.GetStringLength()));
      out += "</key>";
      if (!m.value.IsNull()) {
        OpenTag(out, "value");
        AppendContent(out, d, "value", m.value);
        CloseTag(out, "value");
      }
      out += "</entry>";
    }
  } else if (v.IsObject()) {
    for (const auto& m : v.GetObject())
      AppendElement(out, d, std::string_view(m.name.GetString(), m.name.GetStringLength()), m.value);
  } else {
    AppendScalarText(out, v);
  }
}

void AppendElement(std::string& out, const Dialect& d, std::string_view name, const rapidjson::Value& v) {
  if (v.IsNull()) return;
  OpenTag(out, name);
  AppendContent(out, d, name, v);
  CloseTag(out, name);
}

void AppendRequestId(std::string& out, std::string_view request_id) {
  out += "<RequestId>";
  AppendXmlEscaped(out, request_id);
  out += "</RequestId>";
}

}  // namespace

namespace {

// SigV4 query-string authentication parameters (AWS General Reference, "Authenticating requests:
// using query parameters"): the verifier reads them; they are not the operation's input.
bool IsSigV4QueryParameter(std::string_view key) {
  static constexpr std::string_view kNames[] = {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                                                "X-Amz-Expires",   "X-Amz-SignedHeaders", "X-Amz-Signature",
                                                "X-Amz-Security-Token"};
  for (std::string_view n : kNames)
    if (key == n) return true;
  return false;
}

Result<ParsedQuery> ParsePairs(std::string_view body, const ParseLimits& limits, bool skip_signature_parameters);

}  // namespace

Result<ParsedQuery> ParseFormBody(std::string_view body, const ParseLimits& limits) {
  return ParsePairs(body, limits, false);
}

Result<ParsedQuery> ParseQueryString(std::string_view query, const ParseLimits& limits) {
  return ParsePairs(query, limits, true);
}

namespace {

Result<ParsedQuery> ParsePairs(std::string_view body, const ParseLimits& limits, bool skip_signature_parameters) {
  if (body.size() > limits.max_body_bytes)
    return InvalidParameter("The request body is larger than " + std::to_string(limits.max_body_bytes) + " bytes.");
  TreeBuilder tree(limits);
  ParsedQuery parsed;
  bool have_action = false, have_version = false;
  size_t pairs = 0;
  for (size_t start = 0; start <= body.size();) {
    size_t amp = body.find('&', start);
    if (amp == std::string_view::npos) amp = body.size();
    const std::string_view pair = body.substr(start, amp - start);
    start = amp + 1;
    if (pair.empty()) continue;
    if (++pairs > limits.max_pairs)
      return InvalidParameter("The request has more than " + std::to_string(limits.max_pairs) + " parameters.");
    const size_t eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value = eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (raw_key.size() > limits.max_key_bytes * 3)
      return InvalidParameter("A parameter name is longer than " + std::to_string(limits.max_key_bytes) + " bytes.");
    auto key = FormDecode(raw_key);
    auto value = FormDecode(raw_value);
    if (!key || !value) return Malformed("The request body has a malformed percent-escape.");
    if (!IsValidUtf8(*key) || !IsValidUtf8(*value)) return Malformed("The request body is not valid UTF-8.");
    if (key->empty()) return InvalidParameter("The request has a parameter without a name.");
    if (key->size() > limits.max_key_bytes)
      return InvalidParameter("A parameter name is longer than " + std::to_string(limits.max_key_bytes) + " bytes.");
    if (skip_signature_parameters && IsSigV4QueryParameter(*key)) continue;
    if (*key == "Action" || *key == "Version") {
      bool& seen = *key == "Action" ? have_action : have_version;
      if (seen) return InvalidParameter("The parameter " + *key + " is given more than once.");
      seen = true;
      (*key == "Action" ? parsed.action : parsed.version) = std::move(*value);
      continue;
    }
    MERIDIAN_RETURN_IF_ERROR(tree.Insert(*key, std::move(*value)));
  }
  parsed.params.SetObject();
  MERIDIAN_RETURN_IF_ERROR(ToJson(tree.root(), "", parsed.params, parsed.params.GetAllocator()));
  return parsed;
}

}  // namespace

std::string RenderResponse(const Dialect& dialect, std::string_view action, const rapidjson::Value& result,
                           std::string_view request_id) {
  std::string out;
  out.reserve(256);
  out += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
  out += action;
  out += "Response xmlns=\"";
  out += dialect.xml_namespace;
  out += "\">";
  if (result.IsObject() && result.MemberCount() > 0) {
    out += '<';
    out += action;
    out += "Result>";
    AppendContent(out, dialect, "", result);
    out += "</";
    out += action;
    out += "Result>";
  }
  out += "<ResponseMetadata>";
  AppendRequestId(out, request_id);
  out += "</ResponseMetadata></";
  out += action;
  out += "Response>\n";
  return out;
}

std::string RenderError(const Dialect& dialect, std::string_view code, std::string_view message, int http_status,
                        std::string_view request_id) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"";
  out += dialect.xml_namespace;
  out += "\"><Error><Type>";
  out += http_status >= 500 ? "Receiver" : "Sender";
  out += "</Type><Code>";
  AppendXmlEscaped(out, code);
  out += "</Code><Message>";
  AppendXmlEscaped(out, message);
  out += "</Message></Error>";
  AppendRequestId(out, request_id);
  out += "</ErrorResponse>\n";
  return out;
}

void AppendXmlEscaped(std::string& out, std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    uint32_t cp;
    const size_t n = Utf8SequenceAt(text, i, cp);
    // XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
    const bool xml_char = n > 0 && (cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                                    (cp >= 0xE000 && cp <= 0xFFFD) || cp >= 0x10000);
    if (!xml_char) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      i += n ? n : 1;
      continue;
    }
    switch (cp) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#xD;"; break;  // would otherwise be normalized away by XML parsers
      default: out.append(text.substr(i, n));
    }
    i += n;
  }
}

}  // namespace meridian::server::query
