#include "sigv4/canonical.h"

#include <algorithm>
#include <vector>

#include "crypto/crypto.h"

namespace meridian::sigv4 {

std::optional<std::string_view> FindHeader(std::span<const Header> headers,
                                           std::string_view name) {
  for (const Header& h : headers) {
    if (internal::EqualsIgnoreCase(h.name, name)) return h.value;
  }
  return std::nullopt;
}

namespace internal {
namespace {

constexpr char kUpperHex[] = "0123456789ABCDEF";
constexpr char kLowerHex[] = "0123456789abcdef";

inline char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

inline bool IsUnreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.' || c == '~';
}

inline int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

inline bool IsSpaceOrTab(char c) { return c == ' ' || c == '\t'; }

// One query parameter, name and value already in canonical (encoded) form.
struct QueryParam {
  std::string name;
  std::string value;
};

}  // namespace

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

void AppendUriEncoded(std::string_view s, bool keep_slash, std::string& out) {
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 15]);
    }
  }
}

void AppendUriDecoded(std::string_view s, std::string& out) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>((hi << 4) | lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
}

void AppendCanonicalUri(std::string_view raw_path, PathMode mode, std::string& out) {
  if (raw_path.empty() || raw_path == "/") {
    out.push_back('/');
    return;
  }
  if (mode == PathMode::kNoNormalize) {
    AppendUriEncoded(raw_path, /*keep_slash=*/true, out);
    return;
  }
  // RFC 3986 5.2.4 dot-segment removal, plus dropping empty segments, as AWS does.
  thread_local std::vector<std::string_view> segments;
  segments.clear();
  size_t pos = 0;
  while (pos <= raw_path.size()) {
    size_t end = raw_path.find('/', pos);
    if (end == std::string_view::npos) end = raw_path.size();
    std::string_view segment = raw_path.substr(pos, end - pos);
    if (segment == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!segment.empty() && segment != ".") {
      segments.push_back(segment);
    }
    pos = end + 1;
  }
  const size_t start = out.size();
  if (raw_path.front() == '/') out.push_back('/');
  for (size_t i = 0; i < segments.size(); ++i) {
    if (i > 0) out.push_back('/');
    AppendUriEncoded(segments[i], /*keep_slash=*/true, out);
  }
  if (raw_path.back() == '/' && !segments.empty()) out.push_back('/');
  if (out.size() == start) out.push_back('/');
}

void AppendCanonicalQuery(std::string_view raw_query,
                          std::span<const std::string_view> excluded_names, std::string& out) {
  // Reused across calls on this thread: no allocation once warmed up.
  thread_local std::vector<QueryParam> params;
  thread_local std::string decoded;
  size_t count = 0;
  size_t pos = 0;
  while (pos < raw_query.size()) {
    size_t end = raw_query.find('&', pos);
    if (end == std::string_view::npos) end = raw_query.size();
    std::string_view segment = raw_query.substr(pos, end - pos);
    pos = end + 1;
    if (segment.empty()) continue;
    size_t eq = segment.find('=');
    std::string_view name = segment.substr(0, eq);
    std::string_view value = eq == std::string_view::npos ? std::string_view() : segment.substr(eq + 1);
    decoded.clear();
    AppendUriDecoded(name, decoded);
    if (std::find(excluded_names.begin(), excluded_names.end(), decoded) != excluded_names.end())
      continue;
    if (count == params.size()) params.emplace_back();
    QueryParam& param = params[count++];
    param.name.clear();
    AppendUriEncoded(decoded, /*keep_slash=*/false, param.name);
    decoded.clear();
    AppendUriDecoded(value, decoded);
    param.value.clear();
    AppendUriEncoded(decoded, /*keep_slash=*/false, param.value);
  }
  std::sort(params.begin(), params.begin() + static_cast<ptrdiff_t>(count),
            [](const QueryParam& a, const QueryParam& b) {
              int c = a.name.compare(b.name);
              return c != 0 ? c < 0 : a.value < b.value;
            });
  for (size_t i = 0; i < count; ++i) {
    if (i > 0) out.push_back('&');
    out += params[i].name;
    out.push_back('=');
    out += params[i].value;
  }
}

void AppendTrimmedHeaderValue(std::string_view value, std::string& out) {
  size_t begin = 0, end = value.size();
  while (begin < end && IsSpaceOrTab(value[begin])) ++begin;
  while (end > begin && IsSpaceOrTab(value[end - 1])) --end;
  bool in_space = false;
  for (size_t i = begin; i < end; ++i) {
    char c = value[i];
    if (IsSpaceOrTab(c)) {
      if (!in_space) out.push_back(' ');
      in_space = true;
    } else {
      out.push_back(c);
      in_space = false;
    }
  }
}

bool AppendCanonicalHeaders(std::span<const Header> headers, std::string_view signed_headers,
                            std::string& out, std::string_view& missing) {
  size_t pos = 0;
  while (true) {
    size_t end = signed_headers.find(';', pos);
    if (end == std::string_view::npos) end = signed_headers.size();
    std::string_view name = signed_headers.substr(pos, end - pos);
    if (name.empty()) {
      missing = name;
      return false;
    }
    out += name;
    out.push_back(':');
    bool found = false;
    for (const Header& h : headers) {
      if (!EqualsIgnoreCase(h.name, name)) continue;
      if (found) out.push_back(',');
      AppendTrimmedHeaderValue(h.value, out);
      found = true;
    }
    if (!found) {
      missing = name;
      return false;
    }
    out.push_back('\n');
    if (end == signed_headers.size()) return true;
    pos = end + 1;
  }
}

bool BuildCanonicalRequest(const CanonicalRequestInput& in, std::string& out,
                           std::string_view& missing_header) {
  out.clear();
  out += in.method;
  out.push_back('\n');
  AppendCanonicalUri(in.raw_path, in.path_mode, out);
  out.push_back('\n');
  AppendCanonicalQuery(in.raw_query, in.excluded_query_names, out);
  out.push_back('\n');
  if (!AppendCanonicalHeaders(in.headers, in.signed_headers, out, missing_header)) return false;
  out.push_back('\n');
  out += in.signed_headers;
  out.push_back('\n');
  out += in.payload_hash_hex;
  return true;
}

void AppendHex(ByteView data, std::string& out) {
  for (uint8_t b : data) {
    out.push_back(kLowerHex[b >> 4]);
    out.push_back(kLowerHex[b & 15]);
  }
}

void Sha256Hex(ByteView data, char (&out)[64]) {
  crypto::Sha256Digest digest = crypto::Sha256(data);
  for (size_t i = 0; i < digest.size(); ++i) {
    out[2 * i] = kLowerHex[digest[i] >> 4];
    out[2 * i + 1] = kLowerHex[digest[i] & 15];
  }
}

void BuildStringToSign(std::string_view amz_date, std::string_view scope,
                       std::string_view canonical_request, std::string& out) {
  char hash[64];
  Sha256Hex(AsBytes(canonical_request), hash);
  out.clear();
  out += kAlgorithm;
  out.push_back('\n');
  out += amz_date;
  out.push_back('\n');
  out += scope;
  out.push_back('\n');
  out.append(hash, sizeof hash);
}

bool ParseAmzDate(std::string_view text, int64_t& epoch_seconds) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return false;
  int digits[14];
  for (size_t i = 0, d = 0; i < 15; ++i) {
    if (i == 8) continue;
    if (text[i] < '0' || text[i] > '9') return false;
    digits[d++] = text[i] - '0';
  }
  auto number = [&](int first, int count) {
    int v = 0;
    for (int i = 0; i < count; ++i) v = v * 10 + digits[first + i];
    return v;
  };
  const int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  const int hour = number(8, 2), minute = number(10, 2), second = number(12, 2);
  static constexpr int kDaysInMonth[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return false;
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDaysInMonth[month - 1] + (month == 2 && leap ? 1 : 0)) return false;
  // Days from civil (H. Hinnant's algorithm), proleptic Gregorian, 1970-01-01 = day 0.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = y / 400;  // y >= 1969: no negative division
  const int yoe = y - era * 400;
  const int mp = (month + 9) % 12;
  const int doy = (153 * mp + 2) / 5 + day - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const int64_t days = static_cast<int64_t>(era) * 146097 + doe - 719468;
  epoch_seconds = days * 86400 + hour * 3600 + minute * 60 + second;
  return true;
}

}  // namespace internal
}  // namespace meridian::sigv4
