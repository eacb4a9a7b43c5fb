#include "cli/analyze_command.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cli/admin_client.h"

namespace meridian::cli {
namespace {

struct AnalyzeOptions {
  std::string data_dir;
  std::string endpoint;
  std::string region;
  std::string ca_bundle;
  std::string access_key_id;
  std::string principal_arn;
  bool json = false;
};

// One region's answer: the AnalyzeBlastRadius body parsed, or why there is none.
struct RegionAnswer {
  RegionAnswer(std::string r, std::string e) : region(std::move(r)), endpoint(std::move(e)) {}
  std::string region;
  std::string endpoint;
  Status status = Status::Ok();
  rapidjson::Document body;
};

std::string RequestBody(const AnalyzeOptions& o) {
  rapidjson::StringBuffer sb;
  rapidjson::Writer<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  if (!o.access_key_id.empty()) {
    w.Key("AccessKeyId");
    w.String(o.access_key_id.c_str());
  } else {
    w.Key("PrincipalArn");
    w.String(o.principal_arn.c_str());
  }
  w.EndObject();
  return sb.GetString();
}

void Ask(RegionAnswer& a, const AdminClient& client, const AnalyzeOptions& o) {
  // One decision per (resource, action): an answer can take a while.
  auto body = client.Call(a.region, a.endpoint, "AnalyzeBlastRadius", RequestBody(o), std::chrono::milliseconds(30000));
  if (!body.ok()) {
    a.status = body.status();
    return;
  }
  a.body.Parse(body->data(), body->size());
  if (a.body.HasParseError() || !a.body.IsObject() || !a.body.HasMember("Resources") ||
      !a.body["Resources"].IsArray())
    a.status = Status("BadAnswer", "the region answered with an unexpected document", 500);
}

std::vector<std::string> Strings(const rapidjson::Value& resource, const char* list) {
  std::vector<std::string> out;
  if (resource.HasMember(list) && resource[list].IsArray())
    for (const auto& v : resource[list].GetArray())
      if (v.IsString()) out.emplace_back(v.GetString());
  return out;
}

bool Contains(const std::vector<std::string>& v, const char* s) {
  for (const auto& e : v)
    if (e == s) return true;
  return false;
}

std::string Str(const rapidjson::Value& v, const char* name) {
  return v.HasMember(name) && v[name].IsString() ? v[name].GetString() : "";
}

// What the principal can reach, over every region that answered.
struct Summary {
  int decrypt_keys = 0, readable_secrets = 0, assumable_roles = 0;
  std::set<std::string> decrypt_regions, secret_regions, role_regions, account_regions, regions_with_reach;
  std::set<std::string> account_actions;
};

Summary Summarize(const std::vector<RegionAnswer>& answers) {
  Summary s;
  for (const auto& a : answers) {
    if (!a.status.ok()) continue;
    for (const auto& r : a.body["Resources"].GetArray()) {
      const auto allowed = Strings(r, "Allowed");
      if (allowed.empty()) continue;
      s.regions_with_reach.insert(a.region);
      const std::string type = Str(r, "ResourceType");
      if (type == "kms:key" && Contains(allowed, "kms:Decrypt")) {
        ++s.decrypt_keys;
        s.decrypt_regions.insert(a.region);
      } else if (type == "secretsmanager:secret" && Contains(allowed, "secretsmanager:GetSecretValue")) {
        ++s.readable_secrets;
        s.secret_regions.insert(a.region);
      } else if (type == "iam:role") {
        ++s.assumable_roles;
        s.role_regions.insert(a.region);
      } else if (type == "account") {
        s.account_regions.insert(a.region);
        s.account_actions.insert(allowed.begin(), allowed.end());
      }
    }
  }
  return s;
}

std::string Join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& e : v) out += (out.empty() ? "" : sep) + e;
  return out;
}

void PrintTable(const std::vector<RegionAnswer>& answers, const Summary& s) {
  std::string principal;
  for (const auto& a : answers)
    if (a.status.ok()) principal = Str(a.body, "PrincipalArn") + " (" + Str(a.body, "AccessKeyId") + ")";
  if (!principal.empty()) std::printf("Principal: %s\n", principal.c_str());
  std::printf("%-16s %-78s %s\n", "REGION", "RESOURCE", "ACTIONS ALLOWED");
  for (const auto& a : answers) {
    if (!a.status.ok()) {
      std::printf("%-16s %-78s %s\n", a.region.c_str(), "-", ("(no answer: " + a.status.message() + ")").c_str());
      continue;
    }
    for (const auto& r : a.body["Resources"].GetArray()) {
      const auto allowed = Strings(r, "Allowed");
      if (allowed.empty()) continue;
      std::string resource = Str(r, "ResourceArn");
      if (resource == "*") resource = "* (account-level)";
      std::printf("%-16s %-78s %s\n", a.region.c_str(), resource.c_str(), Join(allowed, ",").c_str());
    }
  }
  std::printf("\nSummary: %d key(s) usable for kms:Decrypt in %zu region(s); %d secret(s) readable in %zu region(s); "
              "%d role(s) assumable in %zu region(s); account-level actions (%s) in %zu region(s); "
              "reach in %zu of %zu region(s).\n",
              s.decrypt_keys, s.decrypt_regions.size(), s.readable_secrets, s.secret_regions.size(), s.assumable_roles,
              s.role_regions.size(), Join(std::vector<std::string>(s.account_actions.begin(), s.account_actions.end()), ",").c_str(),
              s.account_regions.size(), s.regions_with_reach.size(), answers.size());
  std::printf("Context: aws:RequestedRegion = each region, TLS; no source IP / VPC endpoint / encryption context "
              "(statements that need them are not counted).\n");
}

void PrintJson(const std::vector<RegionAnswer>& answers, const Summary& s) {
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
    if (a.status.ok()) {
      w.Key("Answer");
      a.body.Accept(w);
    } else {
      w.Key("Error");
      w.String(a.status.message().c_str());
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("Summary");
  w.StartObject();
  auto count = [&](const char* name, size_t n) {
    w.Key(name);
    w.Uint64(n);
  };
  count("KeysUsableForDecrypt", static_cast<size_t>(s.decrypt_keys));
  count("RegionsWithDecrypt", s.decrypt_regions.size());
  count("SecretsReadable", static_cast<size_t>(s.readable_secrets));
  count("RegionsWithSecretsReadable", s.secret_regions.size());
  count("RolesAssumable", static_cast<size_t>(s.assumable_roles));
  count("RegionsWithReach", s.regions_with_reach.size());
  w.Key("AccountLevelActions");
  w.StartArray();
  for (const auto& action : s.account_actions) w.String(action.c_str());
  w.EndArray();
  w.EndObject();
  w.EndObject();
  std::cout << sb.GetString() << "\n";
}

int RunBlastRadius(const AnalyzeOptions& o) {
  if (o.access_key_id.empty() == o.principal_arn.empty()) {
    std::cerr << "meridian analyze blast-radius: give exactly one of --access-key-id and --principal\n";
    return 1;
  }
  auto client = AdminClient::Open({o.data_dir, o.endpoint, o.region, o.ca_bundle});
  if (!client.ok()) {
    std::cerr << "meridian analyze blast-radius: " << client.status().message() << "\n";
    return 1;
  }
  std::vector<RegionAnswer> answers;
  for (const auto& [region, endpoint] : client->regions()) answers.emplace_back(region, endpoint);
  for (auto& a : answers) Ask(a, *client, o);
  const Summary summary = Summarize(answers);
  if (o.json)
    PrintJson(answers, summary);
  else
    PrintTable(answers, summary);
  for (const auto& a : answers)
    if (!a.status.ok()) return 1;
  return 0;
}

}  // namespace

void RegisterAnalyzeCommands(CLI::App& app, int& exit_code) {
  auto* analyze = app.add_subcommand("analyze", "Analyses answered by the deployment's own policy evaluator");
  analyze->require_subcommand(1);
  auto o = std::make_shared<AnalyzeOptions>();
  auto* cmd = analyze->add_subcommand("blast-radius", "What a credential or principal could do, in every region");
  cmd->add_option("--data-dir", o->data_dir, "A deployment made by `meridian up` (reads its cluster.json)");
  cmd->add_option("--endpoint", o->endpoint, "One region's endpoint URL (instead of --data-dir)");
  cmd->add_option("--region", o->region, "The region --endpoint serves");
  cmd->add_option("--ca-bundle", o->ca_bundle, "CA certificate file for https endpoints");
  cmd->add_option("--access-key-id", o->access_key_id, "The credential to analyze (AKIA... or an STS session's ASIA...)");
  cmd->add_option("--principal", o->principal_arn, "The IAM user or root ARN to analyze (instead of --access-key-id)");
  cmd->add_flag("--json", o->json, "Print JSON instead of a table");
  cmd->callback([o, &exit_code] { exit_code = RunBlastRadius(*o); });
}

}  // namespace meridian::cli
