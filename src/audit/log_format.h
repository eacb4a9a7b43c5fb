// The on-disk layout of one region's audit directory, shared by the writer, the verifier and the
// search tools.
//
//   audit-000001.jsonl, audit-000002.jsonl, ...  records, one JSON line each, rotated by size/age;
//                                                a new file is started at every open
//   digest-000001.json, ...                      signed digests (audit/digest.h), one per file
//   audit-public-key.pem                         the Ed25519 public key that verifies the digests
//   audit-signing-key.wrapped                    its private key, wrapped under the root key
//
// A record line is the serialized record (audit/record.h) with two chain members put first:
//   {"sequence":N,"previousHash":"<64 hex>","eventVersion":...}
// Sequence numbers start at 1 and grow by one per record across files. previousHash is SHA-256
// over the exact bytes of the previous record's line (without its '\n'); record 1 carries the
// genesis hash (64 zeros). A line is complete only with its terminating '\n': a final segment
// without one is a torn write (a crash during an append).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "crypto/crypto.h"

namespace meridian::audit {

inline constexpr std::string_view kPublicKeyFileName = "audit-public-key.pem";
inline constexpr std::string_view kWrappedSigningKeyFileName = "audit-signing-key.wrapped";

using ChainHash = crypto::Sha256Digest;

ChainHash GenesisHash();
// SHA-256 over a line's bytes, without the '\n'.
ChainHash LineHash(std::string_view line);

std::string LogFileName(uint32_t number);     // "audit-000001.jsonl"
std::string DigestFileName(uint32_t number);  // "digest-000001.json"
bool ParseLogFileName(std::string_view name, uint32_t& number);
bool ParseDigestFileName(std::string_view name, uint32_t& number);

// Appends `{"sequence":N,"previousHash":"..",` + the members of `record_json` (a serialized
// record, which starts with '{') to `out`; no newline.
void AppendLogLine(std::string& out, uint64_t sequence, const ChainHash& previous, std::string_view record_json);

// Reads the chain members from the start of a line. Strict: they must be the first two members,
// exactly as AppendLogLine writes them. False if the prefix is damaged.
struct LineHeader {
  uint64_t sequence = 0;
  ChainHash previous{};
};
bool ParseLineHeader(std::string_view line, LineHeader& out);

struct DirectoryFile {
  uint32_t number = 0;
  std::string name;
  std::string path;
};
// Log files / digest files of `directory`, ascending by number. Missing directory: an error.
Result<std::vector<DirectoryFile>> ListLogFiles(const std::string& directory);
Result<std::vector<DirectoryFile>> ListDigestFiles(const std::string& directory);

Result<std::string> ReadWholeFile(const std::string& path);

// A file's contents cut into complete lines (without '\n') and the torn tail, if any.
struct SplitContents {
  std::vector<std::string_view> lines;
  std::string_view torn_tail;  // bytes after the last '\n' ("" when the file ends with '\n')
};
SplitContents SplitLines(std::string_view contents);

}  // namespace meridian::audit
