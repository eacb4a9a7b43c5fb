#include "iam/policy/values.h"

#include <arpa/inet.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <string>

namespace meridian::iam::policy {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits at `pos`.
bool Digits(std::string_view s, size_t& pos, size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!IsDigit(c)) return false;
    v = v * 10 + (c - '0');
  }
  pos += n;
  out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool IsLeap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeap(y) ? 29 : kDays[m - 1];
}

}  // namespace

bool ParseNumber(std::string_view text, double& out) {
  if (text.empty() || text.size() > 64) return false;
  size_t i = (text[0] == '-' || text[0] == '+') ? 1 : 0;
  bool digits = false, dot = false;
  for (size_t j = i; j < text.size(); ++j) {
    if (IsDigit(text[j])) {
      digits = true;
    } else if (text[j] == '.' && !dot) {
      dot = true;
    } else {
      return false;
    }
  }
  if (!digits) return false;
  std::string_view body = text.substr(text[0] == '+' ? 1 : 0);
  auto [ptr, ec] = std::from_chars(body.data(), body.data() + body.size(), out);
  return ec == std::errc() && ptr == body.data() + body.size() && std::isfinite(out);
}

bool ParseDate(std::string_view s, int64_t& epoch_millis) {
  if (s.empty() || s.size() > 40) return false;
  bool all_digits = true;
  for (char c : s) all_digits = all_digits && IsDigit(c);
  if (all_digits) {  // epoch seconds
    if (s.size() > 12) return false;
    int64_t v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    epoch_millis = v * 1000;
    return true;
  }
  size_t pos = 0;
  int year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int64_t millis = 0;
  if (!Digits(s, pos, 4, year)) return false;
  if (pos == s.size() || s[pos] != '-') return false;
  ++pos;
  if (!Digits(s, pos, 2, month) || month < 1 || month > 12) return false;
  if (pos < s.size()) {
    if (s[pos] != '-') return false;
    ++pos;
    if (!Digits(s, pos, 2, day) || day < 1 || day > DaysInMonth(year, month)) return false;
  }
  int64_t offset_minutes = 0;
  if (pos < s.size()) {
    if (s[pos] != 'T' && s[pos] != 't') return false;
    ++pos;
    if (!Digits(s, pos, 2, hour) || hour > 23) return false;
    if (pos >= s.size() || s[pos] != ':') return false;
    ++pos;
    if (!Digits(s, pos, 2, minute) || minute > 59) return false;
    if (pos < s.size() && s[pos] == ':') {
      ++pos;
      if (!Digits(s, pos, 2, second) || second > 60) return false;
      if (pos < s.size() && s[pos] == '.') {
        ++pos;
        size_t start = pos;
        int64_t scale = 100;
        while (pos < s.size() && IsDigit(s[pos])) {
          millis += (s[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) return false;
      }
    }
    if (pos < s.size()) {
      char z = s[pos];
      if (z == 'Z' || z == 'z') {
        ++pos;
      } else if (z == '+' || z == '-') {
        ++pos;
        int oh = 0, om = 0;
        if (!Digits(s, pos, 2, oh) || oh > 23) return false;
        if (pos >= s.size() || s[pos] != ':') return false;
        ++pos;
        if (!Digits(s, pos, 2, om) || om > 59) return false;
        offset_minutes = (oh * 60 + om) * (z == '+' ? 1 : -1);
      } else {
        return false;
      }
    }
  }
  if (pos != s.size()) return false;
  int64_t days = DaysFromCivil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
  int64_t seconds = days * 86400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
  epoch_millis = seconds * 1000 + millis;
  return true;
}

bool ParseIpAddress(std::string_view text, IpNetwork& out) {
  if (text.empty() || text.size() > 45) return false;
  char buf[46];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  out = IpNetwork();
  if (text.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buf, out.bytes.data()) != 1) return false;
    out.family = 6;
    out.prefix = 128;
  } else {
    if (inet_pton(AF_INET, buf, out.bytes.data()) != 1) return false;
    out.family = 4;
    out.prefix = 32;
  }
  return true;
}

bool ParseCidr(std::string_view text, IpNetwork& out) {
  size_t slash = text.find('/');
  if (!ParseIpAddress(text.substr(0, slash), out)) return false;
  if (slash != std::string_view::npos) {
    std::string_view bits = text.substr(slash + 1);
    if (bits.empty() || bits.size() > 3) return false;
    int prefix = 0;
    for (char c : bits) {
      if (!IsDigit(c)) return false;
      prefix = prefix * 10 + (c - '0');
    }
    if (prefix > (out.family == 4 ? 32 : 128)) return false;
    out.prefix = static_cast<uint8_t>(prefix);
  }
  // Clear host bits so containment is a masked compare.
  size_t total = out.family == 4 ? 4 : 16;
  for (size_t i = 0; i < total; ++i) {
    int keep = static_cast<int>(out.prefix) - static_cast<int>(i * 8);
    if (keep >= 8) continue;
    out.bytes[i] = keep <= 0 ? 0 : static_cast<uint8_t>(out.bytes[i] & (0xFF << (8 - keep)));
  }
  return true;
}

bool NetworkContains(const IpNetwork& network, const IpNetwork& address) {
  if (network.family != address.family) return false;
  size_t full = network.prefix / 8;
  if (std::memcmp(network.bytes.data(), address.bytes.data(), full) != 0) return false;
  int rest = network.prefix % 8;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xFF << (8 - rest));
  return (address.bytes[full] & mask) == network.bytes[full];
}

}  // namespace meridian::iam::policy
