#include "cli/status_command.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <iostream>
#include <map>
#include <memory>

#include "cli/admin_client.h"

namespace meridian::cli {
namespace {

struct StatusOptions {
  std::string data_dir;
  std::string endpoint;
  std::string region;
  std::string ca_bundle;
  bool json = false;
};

// One region's answer: the DescribeRegions body, or why there is none.
struct RegionAnswer {
  std::string region;
  std::string endpoint;
  Result<std::string> body = Status("NotAsked", "not asked");
};

std::string Field(const rapidjson::Value& v, const char* name) {
  if (!v.HasMember(name)) return "";
  const auto& f = v[name];
  if (f.IsString()) return f.GetString();
  if (f.IsUint64()) return std::to_string(f.GetUint64());
  if (f.IsDouble()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", f.GetDouble());
    return buf;
  }
  if (f.IsBool()) return f.GetBool() ? "true" : "false";
  return "";
}

void PrintTable(const std::vector<RegionAnswer>& answers) {
  std::printf("%-16s %-16s %-12s %8s %8s %10s %9s  %s\n", "REGION", "PEER", "STATUS", "PENDING", "LAG_S", "ACKED",
              "FAILURES", "LAST_ERROR");
  for (const auto& a : answers) {
    if (!a.body.ok()) {
      std::printf("%-16s %-16s %-12s %8s %8s %10s %9s  %s\n", a.region.c_str(), "-", "Unreachable", "-", "-", "-", "-",
                  a.body.status().message().c_str());
      continue;
    }
    rapidjson::Document d;
    d.Parse(a.body->data(), a.body->size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("Regions") || !d["Regions"].IsArray()) {
      std::printf("%-16s %-16s %-12s\n", a.region.c_str(), "-", "BadAnswer");
      continue;
    }
    for (const auto& r : d["Regions"].GetArray()) {
      const bool local = Field(r, "Role") == "Local";
      std::printf("%-16s %-16s %-12s %8s %8s %10s %9s  %s\n", a.region.c_str(),
                  local ? "-" : Field(r, "RegionName").c_str(), Field(r, "Status").c_str(),
                  local ? "" : Field(r, "PendingEntries").c_str(), local ? "" : Field(r, "ReplicationLagSeconds").c_str(),
                  local ? "" : Field(r, "AcknowledgedSequence").c_str(), local ? "" : Field(r, "DeliveryFailures").c_str(),
                  Field(r, "LastError").c_str());
    }
  }
}

void PrintJson(const std::vector<RegionAnswer>& answers) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("Regions");
  w.StartArray();
  for (const auto& a : answers) {
    w.StartObject();
    w.Key("Region");
    w.String(a.region.c_str());
    w.Key("Endpoint");
    w.String(a.endpoint.c_str());
    if (a.body.ok()) {
      w.Key("Answer");
      w.RawValue(a.body->data(), a.body->size(), rapidjson::kObjectType);
    } else {
      w.Key("Error");
      w.String(a.body.status().message().c_str());
    }
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::cout << sb.GetString() << "\n";
}

int RunStatus(const StatusOptions& o) {
  auto client = AdminClient::Open({o.data_dir, o.endpoint, o.region, o.ca_bundle});
  if (!client.ok()) {
    std::cerr << "meridian status: " << client.status().message() << "\n";
    return 1;
  }
  std::vector<RegionAnswer> answers;
  for (const auto& [region, endpoint] : client->regions())
    answers.push_back({region, endpoint,
                       client->Call(region, endpoint, "DescribeRegions", "{}", std::chrono::milliseconds(5000))});
  if (o.json)
    PrintJson(answers);
  else
    PrintTable(answers);
  for (const auto& a : answers)
    if (!a.body.ok()) return 1;
  return 0;
}

}  // namespace

void RegisterStatusCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<StatusOptions>();
  auto* cmd = app.add_subcommand("status", "Per-region state and replication lag of a deployment");
  cmd->add_option("--data-dir", o->data_dir, "A deployment made by `meridian up` (reads its cluster.json)");
  cmd->add_option("--endpoint", o->endpoint, "One region's endpoint URL (instead of --data-dir)");
  cmd->add_option("--region", o->region, "The region --endpoint serves");
  cmd->add_option("--ca-bundle", o->ca_bundle, "CA certificate file for https endpoints");
  cmd->add_flag("--json", o->json, "Print JSON instead of a table");
  cmd->callback([o, &exit_code] { exit_code = RunStatus(*o); });
}

}  // namespace meridian::cli
