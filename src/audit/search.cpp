#include "audit/search.h"

#include <algorithm>
#include <deque>
#include <sstream>

#include <rapidjson/document.h>

#include "audit/log_format.h"

namespace meridian::audit {
namespace {

bool LastSegmentIs(std::string_view arn, std::string_view name) {
  if (name.empty() || arn.size() <= name.size()) return false;
  return arn.substr(arn.size() - name.size()) == name &&
         (arn[arn.size() - name.size() - 1] == '/' || arn[arn.size() - name.size() - 1] == ':');
}

std::string RequestMember(const AuditRecord& r, const char* name) {
  if (r.request_parameters.empty()) return {};
  rapidjson::Document d;
  d.Parse(r.request_parameters.data(), r.request_parameters.size());
  if (d.HasParseError() || !d.IsObject()) return {};
  auto it = d.FindMember(name);
  if (it == d.MemberEnd() || !it->value.IsString()) return {};
  return it->value.GetString();
}

// Reads every readable record of the directory, calling `visit` for each in log order.
template <typename Visit>
Status ForEachRecord(const std::string& directory, Visit visit) {
  MERIDIAN_ASSIGN_OR_RETURN(auto files, ListLogFiles(directory));
  for (const DirectoryFile& f : files) {
    MERIDIAN_ASSIGN_OR_RETURN(std::string contents, ReadWholeFile(f.path));
    SplitContents split = SplitLines(contents);
    for (size_t i = 0; i < split.lines.size(); ++i) {
      LineHeader h;
      if (!ParseLineHeader(split.lines[i], h)) continue;
      auto record = ParseRecord(split.lines[i]);
      if (!record.ok()) continue;
      visit(FoundRecord{f.name, i + 1, h.sequence, std::string(split.lines[i]), std::move(*record)});
    }
  }
  return Status::Ok();
}

std::string Clip(std::string s, size_t width) {
  if (s.size() > width) s = s.substr(0, width - 1) + "~";
  return s;
}

}  // namespace

bool Matches(const AuditRecord& r, const RecordFilter& f) {
  if (!f.principal.empty()) {
    const UserIdentity& u = r.user_identity;
    if (u.arn != f.principal && u.principal_id != f.principal && u.access_key_id != f.principal &&
        u.account_id != f.principal && !LastSegmentIs(u.arn, f.principal))
      return false;
  }
  if (!f.resource.empty()) {
    bool hit = std::any_of(r.resources.begin(), r.resources.end(), [&](const ResourceRef& res) {
      return res.arn == f.resource || LastSegmentIs(res.arn, f.resource);
    });
    hit = hit || RequestMember(r, "keyId") == f.resource || RequestMember(r, "secretId") == f.resource;
    if (!hit) return false;
  }
  if (!f.event_name.empty() && r.event_name != f.event_name) return false;
  if (!f.error_code.empty()) {
    if (f.error_code == "*" ? r.error_code.empty() : r.error_code != f.error_code) return false;
  }
  if (f.since_ms && r.event_time_ms < *f.since_ms) return false;
  if (f.until_ms && r.event_time_ms > *f.until_ms) return false;
  return true;
}

Result<std::vector<FoundRecord>> SearchRecords(const std::string& directory, const RecordFilter& filter,
                                               size_t limit) {
  std::deque<FoundRecord> found;
  MERIDIAN_RETURN_IF_ERROR(ForEachRecord(directory, [&](FoundRecord&& r) {
    if (!Matches(r.record, filter)) return;
    found.push_back(std::move(r));
    if (limit && found.size() > limit) found.pop_front();
  }));
  return std::vector<FoundRecord>(std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
}

Result<std::vector<FoundRecord>> TailRecords(const std::string& directory, size_t n) {
  return SearchRecords(directory, RecordFilter{}, n);
}

std::string FormatRecordsJson(const std::vector<FoundRecord>& records) {
  std::string out;
  for (const FoundRecord& r : records) {
    out += r.raw;
    out += '\n';
  }
  return out;
}

std::string FormatRecordsTable(const std::vector<FoundRecord>& records) {
  std::ostringstream out;
  char line[512];
  std::snprintf(line, sizeof line, "%-8s %-20s %-26s %-40s %-44s %-15s %-12s %s\n", "SEQ", "TIME", "EVENT",
                "PRINCIPAL", "RESOURCE", "SOURCE IP", "DECISION", "ERROR");
  out << line;
  for (const FoundRecord& f : records) {
    const AuditRecord& r = f.record;
    std::string resource = r.resources.empty() ? RequestMember(r, "keyId") : r.resources.front().arn;
    if (resource.empty()) resource = RequestMember(r, "secretId");
    std::string principal = r.user_identity.arn.empty() ? "(" + r.user_identity.type + ")" : r.user_identity.arn;
    std::snprintf(line, sizeof line, "%-8llu %-20s %-26s %-40s %-44s %-15s %-12s %s\n",
                  static_cast<unsigned long long>(f.sequence), FormatEventTime(r.event_time_ms).c_str(),
                  Clip(r.event_source.substr(0, r.event_source.find('.')) + ":" + r.event_name, 26).c_str(),
                  Clip(principal, 40).c_str(), Clip(resource.empty() ? "-" : resource, 44).c_str(),
                  Clip(r.source_ip_address, 15).c_str(), Clip(r.authorization.decision, 12).c_str(),
                  r.error_code.empty() ? "-" : r.error_code.c_str());
    out << line;
  }
  out << records.size() << " record(s)\n";
  return out.str();
}

}  // namespace meridian::audit
