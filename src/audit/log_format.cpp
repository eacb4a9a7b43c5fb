#include "audit/log_format.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/encoding.h"

namespace meridian::audit {
namespace {

constexpr std::string_view kSequencePrefix = "{\"sequence\":";
constexpr std::string_view kPreviousPrefix = ",\"previousHash\":\"";

std::string NumberedName(std::string_view prefix, uint32_t number, std::string_view suffix) {
  char digits[16];
  std::snprintf(digits, sizeof digits, "%06u", number);
  return std::string(prefix) + digits + std::string(suffix);
}

bool ParseNumberedName(std::string_view name, std::string_view prefix, std::string_view suffix,
                       uint32_t& number) {
  if (name.size() <= prefix.size() + suffix.size() || name.substr(0, prefix.size()) != prefix ||
      name.substr(name.size() - suffix.size()) != suffix)
    return false;
  std::string_view digits = name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
  if (digits.size() < 6 || !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  return ec == std::errc() && ptr == digits.data() + digits.size() && number > 0;
}

Result<std::vector<DirectoryFile>> ListNumbered(const std::string& directory,
                                                bool (*parse)(std::string_view, uint32_t&)) {
  std::error_code ec;
  std::filesystem::directory_iterator it(directory, ec);
  if (ec) return Status("AuditDirectoryUnreadable", "cannot read audit directory " + directory + ": " + ec.message(), 500);
  std::vector<DirectoryFile> out;
  for (const auto& entry : it) {
    uint32_t number = 0;
    std::string name = entry.path().filename().string();
    if (parse(name, number)) out.push_back({number, name, entry.path().string()});
  }
  std::sort(out.begin(), out.end(), [](const DirectoryFile& a, const DirectoryFile& b) { return a.number < b.number; });
  return out;
}

}  // namespace

ChainHash GenesisHash() { return ChainHash{}; }

ChainHash LineHash(std::string_view line) { return crypto::Sha256(AsBytes(line)); }

std::string LogFileName(uint32_t number) { return NumberedName("audit-", number, ".jsonl"); }
std::string DigestFileName(uint32_t number) { return NumberedName("digest-", number, ".json"); }
bool ParseLogFileName(std::string_view name, uint32_t& number) {
  return ParseNumberedName(name, "audit-", ".jsonl", number);
}
bool ParseDigestFileName(std::string_view name, uint32_t& number) {
  return ParseNumberedName(name, "digest-", ".json", number);
}

void AppendLogLine(std::string& out, uint64_t sequence, const ChainHash& previous, std::string_view record_json) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, sequence);
  (void)ec;
  out.append(kSequencePrefix);
  out.append(digits, end);
  out.append(kPreviousPrefix);
  static constexpr char kHexDigits[] = "0123456789abcdef";
  char hex[2 * sizeof(ChainHash)];
  for (size_t i = 0; i < previous.size(); ++i) {
    hex[2 * i] = kHexDigits[previous[i] >> 4];
    hex[2 * i + 1] = kHexDigits[previous[i] & 15];
  }
  out.append(hex, sizeof hex);
  out.push_back('"');
  if (record_json.size() > 2) {  // "{...}" with members: continue the object with them
    out.push_back(',');
    out.append(record_json.substr(1));
  } else {
    out.push_back('}');
  }
}

bool ParseLineHeader(std::string_view line, LineHeader& out) {
  if (line.substr(0, kSequencePrefix.size()) != kSequencePrefix) return false;
  size_t pos = kSequencePrefix.size();
  size_t digits_end = pos;
  while (digits_end < line.size() && digits_end - pos < 20 && line[digits_end] >= '0' && line[digits_end] <= '9')
    ++digits_end;
  if (digits_end == pos || (line[pos] == '0' && digits_end - pos > 1)) return false;
  auto [ptr, ec] = std::from_chars(line.data() + pos, line.data() + digits_end, out.sequence);
  if (ec != std::errc() || ptr != line.data() + digits_end) return false;
  pos = digits_end;
  if (line.substr(pos, kPreviousPrefix.size()) != kPreviousPrefix) return false;
  pos += kPreviousPrefix.size();
  if (line.size() < pos + 65 || line[pos + 64] != '"') return false;
  std::string_view hex = line.substr(pos, 64);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }))
    return false;
  auto bytes = HexDecode(hex);
  if (!bytes || bytes->size() != out.previous.size()) return false;
  std::copy(bytes->begin(), bytes->end(), out.previous.begin());
  return true;
}

Result<std::vector<DirectoryFile>> ListLogFiles(const std::string& directory) {
  return ListNumbered(directory, &ParseLogFileName);
}
Result<std::vector<DirectoryFile>> ListDigestFiles(const std::string& directory) {
  return ListNumbered(directory, &ParseDigestFileName);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status("AuditFileUnreadable", "cannot open " + path + ": " + std::strerror(errno), 500);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status("AuditFileUnreadable", "cannot read " + path, 500);
  return std::move(ss).str();
}

SplitContents SplitLines(std::string_view contents) {
  SplitContents out;
  size_t start = 0;
  while (start < contents.size()) {
    size_t nl = contents.find('\n', start);
    if (nl == std::string_view::npos) {
      out.torn_tail = contents.substr(start);
      break;
    }
    out.lines.push_back(contents.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

}  // namespace meridian::audit
