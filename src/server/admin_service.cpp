#include "server/admin_service.h"

#include <algorithm>

namespace meridian::server {

AdminService::AdminService(AdminServiceOptions options) : options_(std::move(options)) {}

bool AdminService::Knows(std::string_view operation) {
  return operation == "DescribeRegions" || operation == "AnalyzeBlastRadius";
}

Status AdminService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                            JsonWriter& out) {
  if (operation == "AnalyzeBlastRadius") return AnalyzeBlastRadius(options_.blast_radius, request, caller, out);
  if (operation != "DescribeRegions")
    return Status("UnknownOperationException", "MeridianAdmin has no operation named " + std::string(operation) + ".",
                  400);
  const std::vector<replication::PeerLinkState> states =
      options_.peer_states ? options_.peer_states() : std::vector<replication::PeerLinkState>{};
  out.StartObject();
  out.Key("Region");
  out.String(options_.region.c_str());
  out.Key("AccountId");
  out.String(options_.account_id.c_str());
  out.Key("Regions");
  out.StartArray();
  out.StartObject();
  out.Key("RegionName");
  out.String(options_.region.c_str());
  out.Key("Role");
  out.String("Local");
  out.Key("Status");
  out.String("Serving");
  out.EndObject();
  for (const auto& [peer, endpoint] : options_.peers) {
    out.StartObject();
    out.Key("RegionName");
    out.String(peer.c_str());
    out.Key("Role");
    out.String("Peer");
    out.Key("PeerEndpoint");
    out.String(endpoint.c_str());
    auto st = std::find_if(states.begin(), states.end(), [&](const auto& s) { return s.peer == peer; });
    if (st != states.end()) {
      out.Key("Status");
      out.String(st->connected ? "Connected" : (st->failures > 0 ? "Unreachable" : "Idle"));
      out.Key("PendingEntries");
      out.Uint64(st->pending);
      out.Key("AcknowledgedSequence");
      out.Uint64(st->acknowledged);
      out.Key("ReplicationLagSeconds");
      out.Double(static_cast<double>(st->lag_ms) / 1000.0);
      out.Key("DeliveredEntries");
      out.Uint64(st->delivered_entries);
      out.Key("DeliveryFailures");
      out.Uint64(st->failures);
      if (!st->last_error.empty()) {
        out.Key("LastError");
        out.String(st->last_error.c_str());
      }
    } else {
      out.Key("Status");
      out.String("NoLink");
    }
    out.EndObject();
  }
  out.EndArray();
  out.Key("Audit");
  out.StartObject();
  out.Key("Enabled");
  out.Bool(options_.audit != nullptr);
  if (options_.audit) {
    const audit::AuditLogStats a = options_.audit->stats();
    out.Key("RecordsWritten");
    out.Uint64(a.records_written);
    out.Key("RecordsFailed");
    out.Uint64(a.records_failed);
    out.Key("ChainHeadSequence");
    out.Uint64(a.last_sequence);
  }
  out.EndObject();
  out.EndObject();
  return Status::Ok();
}

}  // namespace meridian::server
