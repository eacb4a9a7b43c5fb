// Verification of an audit directory: the hash chain of records and the signed digests.
//
// The verifier reads every log file and digest of one region's directory (layout in
// audit/log_format.h) and reports each anomaly as a Finding that names the record(s) or digest
// and where they are (file and line):
//   - a record altered (its hash no longer matches the link stored in the next record, its
//     sequence field changed, or it is no longer readable);
//   - records removed (a gap in the chain), inserted (a line that is not part of the chain, or a
//     duplicate of a record), or reordered (chain order differs from file order);
//   - the tail truncated: records signed by a digest are missing at the end of the log;
//   - a digest altered (bad signature), removed, swapped/renamed, not chained to its predecessor,
//     or signing a chain head that the log does not have (a record altered and the chain rewritten
//     to hide it).
// A last line without its '\n' is a write interrupted by a crash (the record was never
// acknowledged): reported as a warning, not as tampering, as long as every record signed by a
// digest is present. Records after the last digest are reported (info) as not yet signed: the
// chain shows they are intact and in order, but their removal could only be detected by the next
// digest.
//
// Trust: digests are verified with the PEM given in VerifyOptions::public_key_path; without it,
// with the directory's own audit-public-key.pem, which proves only that the directory is
// consistent (someone able to rewrite the directory could replace the key too). Keep a copy of
// the public key elsewhere and pass it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace meridian::audit {

enum class FindingKind {
  kRecordAltered,
  kRecordRemoved,
  kRecordInserted,
  kRecordsReordered,
  kChainBroken,  // a broken link whose cause cannot be told apart (e.g. at the unsigned tail)
  kTailTruncated,
  kCrashTornTail,
  kUnsignedTail,
  kLogFileMissing,
  kDigestAltered,
  kDigestRemoved,
  kDigestMisplaced,  // a valid digest in another digest's file (swapped or renamed)
  kDigestChainBroken,
  kDigestRangeGap,
  kDigestHeadMismatch,
  kDigestWrongRegion,
};
std::string_view FindingKindName(FindingKind kind);  // "record-altered", ...

enum class Severity { kTampering, kWarning, kInfo };
std::string_view SeverityName(Severity severity);  // "tampering", "warning", "info"

struct Finding {
  FindingKind kind;
  Severity severity;
  std::string file;  // the log or digest file concerned ("" if none)
  size_t line = 0;   // 1-based line in `file`, 0 when not about one line
  uint64_t first_sequence = 0;  // records concerned (0: none)
  uint64_t last_sequence = 0;
  uint64_t digest_sequence = 0;  // digest concerned (0: none)
  std::string message;
};

struct VerifyOptions {
  std::string directory;
  std::optional<int64_t> from_ms;  // only report on records / digests in [from, to] (event time)
  std::optional<int64_t> to_ms;
  std::string public_key_path;  // trusted PEM; "" = the directory's audit-public-key.pem
  std::string region;           // if set, every digest must name this region
};

struct VerifyReport {
  bool intact = true;  // no finding of severity kTampering
  std::string directory;
  std::string region;
  std::string public_key_path;
  bool public_key_from_directory = false;
  std::string public_key_fingerprint;
  size_t log_files = 0;
  size_t digest_files = 0;
  uint64_t records = 0;  // complete record lines read (in the time range, if one was given)
  uint64_t first_sequence = 0;
  uint64_t last_sequence = 0;  // end of the chain
  uint64_t last_signed_sequence = 0;
  std::vector<Finding> findings;
};

// Errors only when verification cannot run (unreadable directory, no usable public key); every
// property of the log itself is reported as findings.
Result<VerifyReport> VerifyAuditDirectory(const VerifyOptions& options);

std::string VerifyReportToJson(const VerifyReport& report);
std::string VerifyReportToText(const VerifyReport& report);

}  // namespace meridian::audit
