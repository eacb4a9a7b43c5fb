#include "audit/record.h"

#include <cstdint>
#include <cstring>
#include <cstdio>
#include <ctime>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "common/aws_json.h"
#include "common/clock.h"
#include "common/encoding.h"
#include "crypto/random_pool.h"

namespace meridian::audit {
namespace {

std::string StringMember(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return {};
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

bool BoolMember(const rapidjson::Value& obj, const char* name) {
  if (!obj.IsObject()) return false;
  auto it = obj.FindMember(name);
  if (it == obj.MemberEnd()) return false;
  if (it->value.IsBool()) return it->value.GetBool();
  if (it->value.IsString()) return std::string_view(it->value.GetString()) == "true";
  return false;
}

std::string RawJson(const rapidjson::Value& v) {
  if (v.IsNull()) return {};
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  v.Accept(w);
  return std::string(sb.GetString(), sb.GetSize());
}

}  // namespace

namespace {

// Appends JSON text straight into one string: the record is written once, without an
// intermediate buffer. Strings are escaped exactly as RapidJSON's Writer escapes them (the
// verifier and the search tools parse the lines with RapidJSON).
class LineWriter {
 public:
  explicit LineWriter(std::string& out) : out_(out) {}

  // `,"name":` (no comma before the first member of an object) for a member name of the record
  // format itself: a literal that needs no escaping.
  template <size_t N>
  void Key(const char (&name)[N]) {
    if (!first_) out_.push_back(',');
    first_ = false;
    char quoted[N + 2];
    quoted[0] = '"';
    std::memcpy(quoted + 1, name, N - 1);
    quoted[N] = '"';
    quoted[N + 1] = ':';
    out_.append(quoted, N + 2);
  }
  // The same for a name from elsewhere (escaped).
  void DynamicKey(std::string_view name) {
    if (!first_) out_.push_back(',');
    first_ = false;
    out_.push_back('"');
    Escaped(name);
    out_ += "\":";
  }
  void String(std::string_view s) {
    out_.push_back('"');
    Escaped(s);
    out_.push_back('"');
  }
  void StringOrNull(std::string_view s) {
    if (s.empty())
      out_ += "null";
    else
      String(s);
  }
  void RawOrNull(std::string_view json) {
    if (json.empty())
      out_ += "null";
    else
      out_ += json;
  }
  void Bool(bool b) { out_ += b ? "true" : "false"; }
  void StartObject() {
    out_.push_back('{');
    first_ = true;
  }
  void EndObject() {
    out_.push_back('}');
    first_ = false;
  }
  void StartArray() {
    out_.push_back('[');
    first_ = true;
  }
  void EndArray() {
    out_.push_back(']');
    first_ = false;
  }
  // Before an array element.
  void Element() {
    if (!first_) out_.push_back(',');
    first_ = false;
  }

 private:
  void Escaped(std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    size_t run = 0;  // start of the pending run of bytes that need no escape
    for (size_t i = 0; i < s.size(); ++i) {
      // Eight bytes at a time while none is a control character, '"' or '\\' (the usual case).
      while (s.size() - i >= 8 && !NeedsEscapeInWord(s.data() + i)) i += 8;
      if (i == s.size()) break;
      const unsigned char c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      out_.push_back('\\');
      switch (c) {
        case '"': out_.push_back('"'); break;
        case '\\': out_.push_back('\\'); break;
        case '\b': out_.push_back('b'); break;
        case '\f': out_.push_back('f'); break;
        case '\n': out_.push_back('n'); break;
        case '\r': out_.push_back('r'); break;
        case '\t': out_.push_back('t'); break;
        default:
          out_ += "u00";
          out_.push_back(kHex[c >> 4]);
          out_.push_back(kHex[c & 15]);
      }
    }
    out_.append(s.data() + run, s.size() - run);
  }

  // Whether any of the 8 bytes at `p` is below 0x20, '"' or '\\' (exact: no false answers).
  static bool NeedsEscapeInWord(const char* p) {
    constexpr uint64_t kOnes = 0x0101010101010101ull, kHighs = 0x8080808080808080ull;
    uint64_t x;
    std::memcpy(&x, p, sizeof x);
    const uint64_t below_space = (x - kOnes * 0x20) & ~x & kHighs;
    const uint64_t quote = x ^ (kOnes * '"'), backslash = x ^ (kOnes * '\\');
    const uint64_t zero_byte = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash);
    return (below_space | (zero_byte & kHighs)) != 0;
  }

  std::string& out_;
  bool first_ = true;
};

}  // namespace

namespace {

// FormatEventTime, recomputed at most once a second per thread (records come in bursts).
std::string_view CachedEventTime(int64_t epoch_millis) {
  thread_local int64_t cached_millis_floor = 0, cached_millis_end = 0;
  thread_local std::string text;
  if (epoch_millis < cached_millis_floor || epoch_millis >= cached_millis_end || text.empty()) {
    text = FormatEventTime(epoch_millis);
    int64_t seconds = epoch_millis / 1000;
    if (epoch_millis < 0 && epoch_millis % 1000 != 0) --seconds;
    cached_millis_floor = seconds * 1000;
    cached_millis_end = cached_millis_floor + 1000;
  }
  return text;
}

}  // namespace

std::string SerializeRecord(const AuditRecord& r) {
  std::string out;
  out.reserve(768 + r.request_parameters.size() + r.response_elements.size() + r.user_agent.size() +
               r.error_message.size() + r.authorization.matched_statement.size() + 160 * r.resources.size());
  LineWriter w(out);
  w.StartObject();
  w.Key("eventVersion");
  w.String(r.event_version);
  w.Key("eventTime");
  w.String(CachedEventTime(r.event_time_ms));
  w.Key("eventSource");
  w.String(r.event_source);
  w.Key("eventName");
  w.String(r.event_name);
  w.Key("awsRegion");
  w.String(r.aws_region);
  w.Key("sourceIPAddress");
  w.String(r.source_ip_address);
  w.Key("vpcEndpointId");
  w.StringOrNull(r.vpc_endpoint_id);
  w.Key("userAgent");
  w.String(r.user_agent);

  const UserIdentity& u = r.user_identity;
  w.Key("userIdentity");
  w.StartObject();
  w.Key("type");
  w.String(u.type);
  w.Key("principalId");
  w.String(u.principal_id);
  w.Key("arn");
  w.String(u.arn);
  w.Key("accountId");
  w.String(u.account_id);
  w.Key("accessKeyId");
  w.String(u.access_key_id);
  if (u.session_context.present) {
    const SessionContext& s = u.session_context;
    w.Key("sessionContext");
    w.StartObject();
    w.Key("attributes");
    w.StartObject();
    w.Key("creationDate");
    w.StringOrNull(s.creation_time_ms ? FormatEventTime(s.creation_time_ms) : "");
    w.Key("mfaAuthenticated");
    w.String(s.mfa_authenticated ? "true" : "false");
    w.EndObject();
    w.Key("sessionIssuer");
    w.StartObject();
    w.Key("arn");
    w.String(s.issuer_arn);
    w.EndObject();
    if (!s.source_identity.empty()) {
      w.Key("sourceIdentity");
      w.String(s.source_identity);
    }
    w.EndObject();
  }
  w.EndObject();

  w.Key("requestParameters");
  w.RawOrNull(r.request_parameters);
  w.Key("responseElements");
  w.RawOrNull(r.response_elements);
  if (!r.additional_event_data.empty()) {
    w.Key("additionalEventData");
    w.StartObject();
    for (const auto& [k, v] : r.additional_event_data) {
      w.DynamicKey(k);
      w.String(v);
    }
    w.EndObject();
  }
  w.Key("resources");
  w.StartArray();
  for (const ResourceRef& res : r.resources) {
    w.Element();
    w.StartObject();
    w.Key("accountId");
    w.String(res.account_id);
    w.Key("type");
    w.String(res.type);
    w.Key("ARN");
    w.String(res.arn);
    w.EndObject();
  }
  w.EndArray();
  if (!r.error_code.empty()) {
    w.Key("errorCode");
    w.String(r.error_code);
    w.Key("errorMessage");
    w.String(r.error_message);
  }
  w.Key("requestID");
  w.String(r.request_id);
  w.Key("eventID");
  w.String(r.event_id);
  w.Key("readOnly");
  w.Bool(r.read_only);
  w.Key("eventType");
  w.String(r.event_type);
  w.Key("managementEvent");
  w.Bool(true);
  w.Key("recipientAccountId");
  w.String(r.recipient_account_id);
  w.Key("eventCategory");
  w.String("Management");
  w.Key("authorization");
  w.StartObject();
  w.Key("decision");
  w.String(r.authorization.decision);
  w.Key("matchedStatement");
  w.StringOrNull(r.authorization.matched_statement);
  w.Key("policy");
  w.StringOrNull(r.authorization.policy);
  w.EndObject();
  w.EndObject();
  return out;
}

Result<AuditRecord> ParseRecord(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject())
    return Status("InvalidAuditRecord", "the audit record is not a JSON object", 400);
  AuditRecord r;
  r.event_version = StringMember(d, "eventVersion");
  if (auto t = ParseEventTime(StringMember(d, "eventTime")); t.ok()) r.event_time_ms = *t;
  r.event_source = StringMember(d, "eventSource");
  r.event_name = StringMember(d, "eventName");
  r.aws_region = StringMember(d, "awsRegion");
  r.source_ip_address = StringMember(d, "sourceIPAddress");
  r.vpc_endpoint_id = StringMember(d, "vpcEndpointId");
  r.user_agent = StringMember(d, "userAgent");
  if (auto it = d.FindMember("userIdentity"); it != d.MemberEnd() && it->value.IsObject()) {
    const rapidjson::Value& u = it->value;
    r.user_identity.type = StringMember(u, "type");
    r.user_identity.principal_id = StringMember(u, "principalId");
    r.user_identity.arn = StringMember(u, "arn");
    r.user_identity.account_id = StringMember(u, "accountId");
    r.user_identity.access_key_id = StringMember(u, "accessKeyId");
    if (auto sc = u.FindMember("sessionContext"); sc != u.MemberEnd() && sc->value.IsObject()) {
      SessionContext& s = r.user_identity.session_context;
      s.present = true;
      if (auto a = sc->value.FindMember("attributes"); a != sc->value.MemberEnd()) {
        s.mfa_authenticated = BoolMember(a->value, "mfaAuthenticated");
        if (auto t = ParseEventTime(StringMember(a->value, "creationDate")); t.ok()) s.creation_time_ms = *t;
      }
      if (auto i = sc->value.FindMember("sessionIssuer"); i != sc->value.MemberEnd())
        s.issuer_arn = StringMember(i->value, "arn");
      s.source_identity = StringMember(sc->value, "sourceIdentity");
    }
  }
  if (auto it = d.FindMember("requestParameters"); it != d.MemberEnd()) r.request_parameters = RawJson(it->value);
  if (auto it = d.FindMember("responseElements"); it != d.MemberEnd()) r.response_elements = RawJson(it->value);
  if (auto it = d.FindMember("additionalEventData"); it != d.MemberEnd() && it->value.IsObject())
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m)
      if (m->value.IsString()) r.additional_event_data.emplace_back(m->name.GetString(), m->value.GetString());
  if (auto it = d.FindMember("resources"); it != d.MemberEnd() && it->value.IsArray())
    for (const auto& res : it->value.GetArray())
      r.resources.push_back({StringMember(res, "ARN"), StringMember(res, "type"), StringMember(res, "accountId")});
  r.error_code = StringMember(d, "errorCode");
  r.error_message = StringMember(d, "errorMessage");
  r.request_id = StringMember(d, "requestID");
  r.event_id = StringMember(d, "eventID");
  r.read_only = BoolMember(d, "readOnly");
  r.event_type = StringMember(d, "eventType");
  r.recipient_account_id = StringMember(d, "recipientAccountId");
  if (auto it = d.FindMember("authorization"); it != d.MemberEnd() && it->value.IsObject()) {
    r.authorization.decision = StringMember(it->value, "decision");
    r.authorization.matched_statement = StringMember(it->value, "matchedStatement");
    r.authorization.policy = StringMember(it->value, "policy");
  }
  return r;
}

bool IsReadOnlyEvent(std::string_view name) {
  for (std::string_view prefix : {"Describe", "Get", "List", "BatchGet", "Generate", "Validate"})
    if (name.substr(0, prefix.size()) == prefix) return true;
  for (std::string_view op : {"Encrypt", "Decrypt", "ReEncrypt", "Sign", "Verify", "VerifyMac", "DeriveSharedSecret"})
    if (name == op) return true;
  return false;
}

std::string NewEventId() { return crypto::PooledRandomUuid(); }

std::string FormatEventTime(int64_t epoch_millis) {
  int64_t seconds = epoch_millis / 1000;
  if (epoch_millis < 0 && epoch_millis % 1000 != 0) --seconds;
  return FormatIso8601(seconds);
}

Result<int64_t> ParseEventTime(std::string_view text) {
  auto bad = [&] {
    return Status("ValidationException",
                  "'" + std::string(text) + "' is not a time: use 2024-05-01T12:00:00Z or 2024-05-01", 400);
  };
  auto digits = [&](size_t pos, size_t n, int& out) {
    if (pos + n > text.size()) return false;
    out = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  int year, mon, day, hour = 0, min = 0, sec = 0, millis = 0;
  if (!digits(0, 4, year) || text.size() < 10 || text[4] != '-' || !digits(5, 2, mon) || text[7] != '-' ||
      !digits(8, 2, day))
    return bad();
  if (text.size() > 10) {
    if (text[10] != 'T' || !digits(11, 2, hour) || text.size() < 19 || text[13] != ':' || !digits(14, 2, min) ||
        text[16] != ':' || !digits(17, 2, sec))
      return bad();
    size_t pos = 19;
    if (pos < text.size() && text[pos] == '.') {
      size_t start = ++pos;
      int scale = 100;
      while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        millis += (text[pos] - '0') * scale;
        scale /= 10;
        ++pos;
      }
      if (pos == start) return bad();
    }
    if (pos + 1 != text.size() || text[pos] != 'Z') return bad();
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) return bad();
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

}  // namespace meridian::audit
