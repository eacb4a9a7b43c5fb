// JSON format (`meridian dr-drill --json FILE`):
//
//   {"regions": ["us-east-1", "us-west-2"], "duration_s": 4, "bucket_ms": 100,
//    "strategies": [{
//      "strategy": 1, "name": "...", "completed": true, "error": "",
//      "rpo": {"acknowledged_in_a": 212, "lost": 0, "window_ms": 0, "lost_record_ids": []},
//      "promotion_ms": 310, "rto_ms": 480, "recovered_without_region_a": true,
//      "region_a_restored_at_ms": -1,
//      "decrypt_in_b_while_a_down": {"checked": 212, "decrypted": 212, "first_error": ""},
//      "decrypt_in_b_after_a_restored": {"checked": 0, "decrypted": 0, "first_error": ""},
//      "reencrypt_for_b": {"records": 0, "ms": -1, "error": ""},
//      "secret_rotation": {"attempted": true, "current_readable_in_b": true, ...},
//      "longest_outage_ms": 400, "requests": 950,
//      "timeline": [{"t_ms": -4000, "writes_ok": 4, "reads_ok": 5, "failed": 0}, ...]}]}
//
// Times in the timeline are relative to the kill of region A (negative: before it).
#include "drill/dr_report.h"

#include <algorithm>
#include <cstdio>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

namespace meridian::drill {

RpoFigures ComputeRpo(const std::vector<AcknowledgedWrite>& acknowledged, const std::set<int64_t>& present_in_b,
                      int64_t killed_at_us) {
  RpoFigures rpo;
  rpo.acknowledged = acknowledged.size();
  int64_t oldest_lost_us = -1;
  std::vector<int64_t> lost;
  for (const auto& w : acknowledged) {
    if (present_in_b.count(w.record_id)) continue;
    lost.push_back(w.record_id);
    if (oldest_lost_us < 0 || w.acknowledged_at_us < oldest_lost_us) oldest_lost_us = w.acknowledged_at_us;
  }
  rpo.lost = lost.size();
  if (oldest_lost_us >= 0) rpo.window_ms = std::max<int64_t>(0, (killed_at_us - oldest_lost_us) / 1000);
  std::sort(lost.begin(), lost.end());
  if (lost.size() > RpoFigures::kMaxListedLostIds) lost.resize(RpoFigures::kMaxListedLostIds);
  rpo.lost_record_ids = std::move(lost);
  return rpo;
}

namespace {

std::string Ms(int64_t ms) { return ms < 0 ? "-" : std::to_string(ms); }

std::string Fraction(const DecryptCheck& c) {
  if (c.checked == 0) return "-";
  return std::to_string(c.decrypted) + "/" + std::to_string(c.checked);
}

std::string RotationCell(const SecretRotationCheck& r) {
  if (!r.attempted) return "-";
  if (r.current_readable_in_b && r.current_unchanged) return r.rotation_completed_in_b ? "ok, finished in B" : "ok";
  return "BROKEN";
}

std::string Pad(const std::string& s, size_t width, bool right_align) {
  if (s.size() >= width) return s;
  return right_align ? std::string(width - s.size(), ' ') + s : s + std::string(width - s.size(), ' ');
}

template <typename Writer>
void WriteDecryptCheck(Writer& w, const char* key, const DecryptCheck& c) {
  w.Key(key);
  w.StartObject();
  w.Key("checked");
  w.Uint64(c.checked);
  w.Key("decrypted");
  w.Uint64(c.decrypted);
  w.Key("first_error");
  w.String(c.first_error);
  w.EndObject();
}

}  // namespace

std::string RenderTable(const DrillReport& report) {
  const std::vector<std::string> header = {"strategy",    "acked in A", "lost (RPO)",   "RPO ms",
                                           "promote ms",  "RTO ms",     "decrypt in B", "A restored",
                                           "decrypt A back", "re-encrypted", "needs A", "rotation"};
  std::vector<std::vector<std::string>> rows;
  for (const auto& s : report.strategies) {
    const std::string label = std::to_string(s.strategy) + " " + s.name;
    if (!s.completed) {
      rows.push_back({label, "FAILED: " + s.error});
      continue;
    }
    rows.push_back({label, std::to_string(s.rpo.acknowledged), std::to_string(s.rpo.lost), Ms(s.rpo.window_ms),
                    Ms(s.promotion_ms), Ms(s.rto_ms), Fraction(s.decrypt_while_a_down),
                    s.region_a_restored_at_ms < 0 ? "-" : "+" + std::to_string(s.region_a_restored_at_ms) + " ms",
                    Fraction(s.decrypt_after_a_restored),
                    s.reencrypt_ms < 0 ? "-"
                                       : std::to_string(s.reencrypted_records) + " in " + std::to_string(s.reencrypt_ms) + " ms",
                    s.recovered_without_region_a ? "no" : "YES",
                    RotationCell(s.secret_rotation)});
  }
  std::vector<size_t> widths(header.size());
  for (size_t i = 0; i < header.size(); ++i) widths[i] = header[i].size();
  for (const auto& row : rows)
    if (row.size() == header.size())
      for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  std::ostringstream out;
  auto line = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i) out << "  ";
      out << (cells.size() == header.size() ? Pad(cells[i], widths[i], i > 0) : cells[i]);
    }
    out << "\n";
  };
  line(header);
  size_t total = 0;
  for (size_t w : widths) total += w + 2;
  out << std::string(total - 2, '-') << "\n";
  for (const auto& row : rows) line(row);
  out << "\nRegion A = " << (report.regions.empty() ? "?" : report.regions[0]) << " (killed: SIGKILL of its "
      << "Meridian process, immediate stop of its PostgreSQL), region B = "
      << (report.regions.size() > 1 ? report.regions[1] : "?") << " (standby promoted).\n"
      << "RPO: writes acknowledged in A that B does not have, and how long before the kill the oldest of them was\n"
      << "acknowledged. RTO: from the kill until B served both reads and writes again, promotion included.\n"
      << "decrypt in B: records written in A decrypted in B after failover while A was still down;\n"
      << "decrypt A back: the same, with B's key alone, once region A's Meridian process was started again and\n"
      << "every record written in A was re-encrypted for B through A's KMS (re-encrypted).\n"
      << "Reads in the timeline are of records written in A, made in B.\n";
  return out.str();
}

std::string RenderJson(const DrillReport& report) {
  rapidjson::StringBuffer buffer;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(buffer);
  w.SetIndent(' ', 1);
  w.StartObject();
  w.Key("regions");
  w.StartArray();
  for (const auto& r : report.regions) w.String(r);
  w.EndArray();
  w.Key("duration_s");
  w.Double(report.duration_s);
  w.Key("bucket_ms");
  w.Int64(report.bucket_ms);
  w.Key("strategies");
  w.StartArray();
  for (const auto& s : report.strategies) {
    w.StartObject();
    w.Key("strategy");
    w.Int(s.strategy);
    w.Key("name");
    w.String(s.name);
    w.Key("completed");
    w.Bool(s.completed);
    w.Key("error");
    w.String(s.error);
    w.Key("rpo");
    w.StartObject();
    w.Key("acknowledged_in_a");
    w.Uint64(s.rpo.acknowledged);
    w.Key("lost");
    w.Uint64(s.rpo.lost);
    w.Key("window_ms");
    w.Int64(s.rpo.window_ms);
    w.Key("lost_record_ids");
    w.StartArray();
    for (int64_t id : s.rpo.lost_record_ids) w.Int64(id);
    w.EndArray();
    w.EndObject();
    w.Key("promotion_ms");
    w.Int64(s.promotion_ms);
    w.Key("rto_ms");
    w.Int64(s.rto_ms);
    w.Key("recovered_without_region_a");
    w.Bool(s.recovered_without_region_a);
    w.Key("region_a_restored_at_ms");
    w.Int64(s.region_a_restored_at_ms);
    WriteDecryptCheck(w, "decrypt_in_b_while_a_down", s.decrypt_while_a_down);
    WriteDecryptCheck(w, "decrypt_in_b_after_a_restored", s.decrypt_after_a_restored);
    w.Key("reencrypt_for_b");
    w.StartObject();
    w.Key("records");
    w.Uint64(s.reencrypted_records);
    w.Key("ms");
    w.Int64(s.reencrypt_ms);
    w.Key("error");
    w.String(s.reencrypt_error);
    w.EndObject();
    w.Key("secret_rotation");
    w.StartObject();
    w.Key("attempted");
    w.Bool(s.secret_rotation.attempted);
    w.Key("current_readable_in_b");
    w.Bool(s.secret_rotation.current_readable_in_b);
    w.Key("current_unchanged");
    w.Bool(s.secret_rotation.current_unchanged);
    w.Key("rotation_completed_in_b");
    w.Bool(s.secret_rotation.rotation_completed_in_b);
    w.Key("note");
    w.String(s.secret_rotation.note);
    w.EndObject();
    w.Key("longest_outage_ms");
    w.Int64(s.longest_outage_ms);
    w.Key("requests");
    w.Uint64(s.requests);
    w.Key("timeline");
    w.StartArray();
    for (const auto& b : s.timeline) {
      w.StartObject();
      w.Key("t_ms");
      w.Int64(b.start_ms);
      w.Key("writes_ok");
      w.Uint(b.writes_ok);
      w.Key("reads_ok");
      w.Uint(b.reads_ok);
      w.Key("failed");
      w.Uint(b.failed);
      w.EndObject();
    }
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize()) + "\n";
}

}  // namespace meridian::drill
