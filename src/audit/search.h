// Investigation helpers over an audit directory: the last records, and records matching a filter.
// They read the files as they are (no verification: run VerifyAuditDirectory for that); lines
// that are not readable records are skipped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "audit/record.h"
#include "common/status.h"

namespace meridian::audit {

// Every set member must match (empty / unset members match everything).
struct RecordFilter {
  // userIdentity.arn, principalId, accessKeyId or accountId equal to it, or the last segment of
  // the ARN ("alice" matches arn:aws:iam::111122223333:user/alice).
  std::string principal;
  // A resources[].ARN equal to it or ending in "/<it>" (a key id), or requestParameters.keyId /
  // secretId equal to it (an alias or name).
  std::string resource;
  std::string event_name;  // eventName, exactly
  std::string error_code;  // errorCode, exactly; "*" matches any failed call
  std::optional<int64_t> since_ms;
  std::optional<int64_t> until_ms;
};

struct FoundRecord {
  std::string file;
  size_t line = 0;  // 1-based
  uint64_t sequence = 0;
  std::string raw;  // the line as stored
  AuditRecord record;
};

bool Matches(const AuditRecord& record, const RecordFilter& filter);

// Matching records in log order; with limit > 0, only the last `limit` of them.
Result<std::vector<FoundRecord>> SearchRecords(const std::string& directory, const RecordFilter& filter,
                                               size_t limit = 0);
// The last `n` records of the log, in order.
Result<std::vector<FoundRecord>> TailRecords(const std::string& directory, size_t n);

// One stored line per record (JSON lines, readable by jq).
std::string FormatRecordsJson(const std::vector<FoundRecord>& records);
// A fixed-width table: sequence, time, event, principal, resource, source IP, decision, error.
std::string FormatRecordsTable(const std::vector<FoundRecord>& records);

}  // namespace meridian::audit
