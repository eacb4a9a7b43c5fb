#include "server/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <boost/asio/ip/address.hpp>
#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>

#include "common/aws_json.h"
#include "secrets/hook_rotator.h"
#include "storage/storage_spec.h"

namespace meridian::server {
namespace {

Status ConfigError(std::string message) { return Status("ConfigurationError", std::move(message), 500); }

}  // namespace

bool IsValidRegionName(std::string_view region) {
  // AWS region names: lower-case letters, digits and dashes, e.g. us-east-1, eu-west-3.
  if (region.size() < 4 || region.size() > 32 || region.front() == '-' || region.back() == '-') return false;
  for (char c : region)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  return region.find('-') != std::string_view::npos;
}

bool IsLoopbackAddress(std::string_view address) {
  if (address == "localhost") return true;
  boost::system::error_code ec;
  auto a = boost::asio::ip::make_address(std::string(address), ec);
  return !ec && a.is_loopback();
}

Result<RegionConfig> RegionConfig::Parse(std::string_view json) {
  rapidjson::Document d;
  d.Parse(json.data(), json.size());
  if (d.HasParseError() || !d.IsObject()) return ConfigError("the configuration is not a JSON object");
  JsonRequest c(d);
  RegionConfig cfg;
  auto str = [&](const char* name, std::string& out, bool required) -> Status {
    auto v = c.OptString(name);
    if (!v.ok()) return ConfigError(std::string("\"") + name + "\" must be a string");
    if (!*v) return required ? ConfigError(std::string("\"") + name + "\" is required") : Status::Ok();
    out = **v;
    return Status::Ok();
  };
  MERIDIAN_RETURN_IF_ERROR(str("region", cfg.region, true));
  MERIDIAN_RETURN_IF_ERROR(str("account_id", cfg.account_id, true));
  MERIDIAN_RETURN_IF_ERROR(str("data_dir", cfg.data_dir, true));
  MERIDIAN_RETURN_IF_ERROR(str("storage", cfg.storage, false));
  if (auto spec = storage::StorageSpec::Parse(cfg.storage, cfg.DataPath("meridian.db")); !spec.ok()) {
    return ConfigError("\"storage\": " + spec.status().message());
  }
  if (!IsValidRegionName(cfg.region)) return ConfigError("\"" + cfg.region + "\" is not a region name like us-east-1");
  if (cfg.account_id.size() != 12 || cfg.account_id.find_first_not_of("0123456789") != std::string::npos)
    return ConfigError("\"account_id\" must be 12 digits");
  if (const auto* rk = c.Get("root_key")) {
    if (!rk->IsObject()) return ConfigError("\"root_key\" must be an object");
    JsonRequest r(*rk);
    auto get = [&](const char* name, std::string& out) -> Status {
      auto v = r.OptString(name);
      if (!v.ok()) return ConfigError(std::string("\"root_key.") + name + "\" must be a string");
      if (*v) out = **v;
      return Status::Ok();
    };
    MERIDIAN_RETURN_IF_ERROR(get("file", cfg.root_key_file));
    MERIDIAN_RETURN_IF_ERROR(get("passphrase_file", cfg.passphrase_file));
    MERIDIAN_RETURN_IF_ERROR(get("passphrase_env", cfg.passphrase_env));
    auto create = r.OptBool("create_if_missing");
    if (!create.ok()) return ConfigError("\"root_key.create_if_missing\" must be a boolean");
    cfg.create_root_key_if_missing = create->value_or(false);
  }
  if (const auto* tls = c.Get("tls")) {
    if (!tls->IsObject()) return ConfigError("\"tls\" must be an object");
    JsonRequest t(*tls);
    for (auto [name, out] : {std::pair{"ca_file", &cfg.tls.ca_file}, std::pair{"cert_file", &cfg.tls.cert_file},
                             std::pair{"key_file", &cfg.tls.key_file}}) {
      auto v = t.OptString(name, 1, 4096);
      if (!v.ok() || !*v) return ConfigError(std::string("\"tls.") + name + "\" is required (a file path)");
      *out = **v;
    }
  }
  auto parse_listener = [&](const rapidjson::Value& l, ListenerConfig& lc) -> Status {
    if (!l.IsObject()) return ConfigError("each listener must be an object");
    JsonRequest lr(l);
    auto addr = lr.OptString("address");
    auto port = lr.OptInt("port", 0, 65535);
    auto vpce = lr.OptString("endpoint_id", 0, 64);
    auto tls = lr.OptBool("tls");
    auto reuse_port = lr.OptBool("reuse_port");
    if (!addr.ok() || !port.ok() || !vpce.ok() || !tls.ok() || !reuse_port.ok() || !*port)
      return ConfigError("a listener needs \"address\" (string) and \"port\" (0-65535)");
    if (*addr) lc.address = **addr;
    lc.port = static_cast<uint16_t>(**port);
    if (*vpce) lc.endpoint_id = **vpce;
    lc.tls = tls->value_or(false);
    lc.reuse_port = reuse_port->value_or(false);
    if (lc.tls && !cfg.tls.configured())
      return ConfigError("listener " + lc.address + ":" + std::to_string(lc.port) +
                         " serves TLS but the configuration has no \"tls\" certificate");
    if (!lc.tls && !IsLoopbackAddress(lc.address))
      return ConfigError("listener " + lc.address + ":" + std::to_string(lc.port) +
                         " would serve plaintext HTTP off loopback; bind it to 127.0.0.1 or set \"tls\": true");
    return Status::Ok();
  };
  const auto* listeners = c.Get("listeners");
  if (!listeners || !listeners->IsArray() || listeners->Empty())
    return ConfigError("\"listeners\" must list at least one {\"address\", \"port\"}");
  for (const auto& l : listeners->GetArray()) {
    ListenerConfig lc;
    MERIDIAN_RETURN_IF_ERROR(parse_listener(l, lc));
    cfg.listeners.push_back(lc);
  }
  if (const auto* pl = c.Get("peer_listener")) {
    ListenerConfig lc;
    lc.tls = true;
    if (!cfg.tls.configured()) return ConfigError("\"peer_listener\" needs the \"tls\" certificate (mutual TLS)");
    rapidjson::Document copy;
    copy.CopyFrom(*pl, copy.GetAllocator());
    if (copy.IsObject()) copy.AddMember("tls", true, copy.GetAllocator());
    MERIDIAN_RETURN_IF_ERROR(parse_listener(copy, lc));
    cfg.peer_listener = lc;
  }
  if (const auto* peers = c.Get("peers")) {
    if (!peers->IsArray()) return ConfigError("\"peers\" must be a list of {\"region\", \"endpoint\"}");
    for (const auto& p : peers->GetArray()) {
      if (!p.IsObject()) return ConfigError("each peer must be an object");
      JsonRequest pr(p);
      auto region = pr.OptString("region");
      auto endpoint = pr.OptString("endpoint");
      if (!region.ok() || !endpoint.ok() || !*region || !*endpoint || !IsValidRegionName(**region) ||
          (*endpoint)->rfind("https://", 0) != 0)
        return ConfigError("a peer needs \"region\" (a region name) and \"endpoint\" (https://host:port)");
      if (**region == cfg.region) return ConfigError("a region cannot be its own peer");
      cfg.peers.push_back({**region, **endpoint});
    }
    if (!cfg.peers.empty() && (!cfg.tls.configured() || cfg.tls.ca_file.empty()))
      return ConfigError("peers are reached over mutual TLS: the configuration needs \"tls\" with ca_file");
  }
  if (const auto* a = c.Get("audit")) {
    if (!a->IsObject()) return ConfigError("\"audit\" must be an object");
    JsonRequest ar(*a);
    auto enabled = ar.OptBool("enabled");
    auto dir = ar.OptString("directory", 1, 4096);
    auto policy = ar.OptEnum("failure_policy", {"fail-closed", "best-effort"});
    auto digest = ar.OptInt("digest_interval_seconds", 1, 86400);
    auto durability = ar.OptEnum("durability", {"written", "synced"});
    if (!enabled.ok() || !dir.ok() || !policy.ok() || !digest.ok() || !durability.ok())
      return ConfigError("\"audit\" takes enabled (bool), directory (path), failure_policy "
                         "(\"fail-closed\" or \"best-effort\") and digest_interval_seconds (1-86400)");
    cfg.audit_enabled = enabled->value_or(true);
    if (*dir) cfg.audit_directory = **dir;
    cfg.audit_best_effort = policy->value_or("fail-closed") == "best-effort";
    cfg.audit_digest_interval_seconds = static_cast<int>(digest->value_or(300));
    cfg.audit_synced = durability->value_or("written") == "synced";
  }
  if (const auto* q = c.Get("quotas")) {
    if (!q->IsObject()) return ConfigError("\"quotas\" must be an object");
    JsonRequest qr(*q);
    auto enabled = qr.OptBool("enabled");
    if (!enabled.ok()) return ConfigError("\"quotas.enabled\" must be a boolean");
    cfg.quotas.enabled = enabled->value_or(true);
    for (size_t i = 0; i < kQuotaClassCount; ++i) {
      const std::string name(QuotaClassName(static_cast<QuotaClass>(i)));
      const auto* rate = qr.Get(name.c_str());
      if (!rate) continue;
      auto bad = [&] {
        return ConfigError("\"quotas." + name + "\" takes requests_per_second (0-10000000, 0: unlimited) and burst "
                           "(1-10000000)");
      };
      if (!rate->IsObject()) return bad();
      JsonRequest rr(*rate);
      auto rps = rr.OptInt("requests_per_second", 0, 10'000'000);
      auto burst = rr.OptInt("burst", 1, 10'000'000);
      if (!rps.ok() || !burst.ok() || !*rps) return bad();
      cfg.quotas.rates[i].requests_per_second = static_cast<double>(**rps);
      cfg.quotas.rates[i].burst = static_cast<double>(burst->value_or(std::max<int64_t>(1, **rps)));
    }
    for (const auto& m : q->GetObject()) {
      const std::string_view name(m.name.GetString(), m.name.GetStringLength());
      bool known = name == "enabled";
      for (size_t i = 0; i < kQuotaClassCount; ++i) known = known || name == QuotaClassName(static_cast<QuotaClass>(i));
      if (!known)
        return ConfigError("\"quotas\" has no class \"" + std::string(name) +
                           "\" (classes: symmetric_crypto, kms_management, secrets_read, secrets_write, iam)");
    }
  }
  if (const auto* iam = c.Get("iam")) {
    if (!iam->IsObject()) return ConfigError("\"iam\" must be an object");
    JsonRequest ir(*iam);
    auto home = ir.OptString("home_region");
    auto endpoint = ir.OptString("home_endpoint", 1, 2048);
    if (!home.ok() || !endpoint.ok()) return ConfigError("\"iam\" takes home_region and home_endpoint (strings)");
    if (*home) cfg.iam_home_region = **home;
    if (*endpoint) cfg.iam_home_endpoint = **endpoint;
    const auto all = cfg.AllRegions();
    if (!cfg.iam_home_region.empty() && std::find(all.begin(), all.end(), cfg.iam_home_region) == all.end())
      return ConfigError("\"iam.home_region\" must be this region or one of its peers, not " + cfg.iam_home_region);
  }
  if (const auto* hooks = c.Get("rotation_functions")) {
    auto parsed = secrets::ParseRotationHooks(*hooks);
    if (!parsed.ok()) return ConfigError(parsed.status().message());
    cfg.rotation_functions_json = secrets::RotationHooksToJson(*parsed);
  }
  auto threads = c.OptInt("threads", 0, 256);
  auto interval = c.OptInt("maintenance_interval_seconds", 1, 86400);
  if (!threads.ok()) return ConfigError("\"threads\" must be 0-256");
  if (!interval.ok()) return ConfigError("\"maintenance_interval_seconds\" must be 1-86400");
  cfg.threads = static_cast<int>(threads->value_or(0));
  cfg.maintenance_interval_seconds = static_cast<int>(interval->value_or(60));
  return cfg;
}

Result<RegionConfig> RegionConfig::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ConfigError("cannot read configuration file " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto cfg = Parse(ss.str());
  if (!cfg.ok()) return ConfigError(path + ": " + cfg.status().message());
  return cfg;
}

std::string RegionConfig::ToJson() const {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("region"); w.String(region);
  w.Key("account_id"); w.String(account_id);
  w.Key("data_dir"); w.String(data_dir);
  if (storage != "sqlite") { w.Key("storage"); w.String(storage); }
  w.Key("root_key");
  w.StartObject();
  w.Key("file"); w.String(root_key_file);
  if (!passphrase_file.empty()) { w.Key("passphrase_file"); w.String(passphrase_file); }
  w.Key("passphrase_env"); w.String(passphrase_env);
  w.Key("create_if_missing"); w.Bool(create_root_key_if_missing);
  w.EndObject();
  auto write_listener = [&](const ListenerConfig& l) {
    w.StartObject();
    w.Key("address"); w.String(l.address);
    w.Key("port"); w.Uint(l.port);
    w.Key("endpoint_id"); w.String(l.endpoint_id);
    w.Key("tls"); w.Bool(l.tls);
    if (l.reuse_port) { w.Key("reuse_port"); w.Bool(true); }
    w.EndObject();
  };
  w.Key("listeners");
  w.StartArray();
  for (const auto& l : listeners) write_listener(l);
  w.EndArray();
  if (tls.configured()) {
    w.Key("tls");
    w.StartObject();
    w.Key("ca_file"); w.String(tls.ca_file);
    w.Key("cert_file"); w.String(tls.cert_file);
    w.Key("key_file"); w.String(tls.key_file);
    w.EndObject();
  }
  if (peer_listener) {
    w.Key("peer_listener");
    write_listener(*peer_listener);
  }
  if (!peers.empty()) {
    w.Key("peers");
    w.StartArray();
    for (const auto& p : peers) {
      w.StartObject();
      w.Key("region"); w.String(p.region);
      w.Key("endpoint"); w.String(p.endpoint);
      w.EndObject();
    }
    w.EndArray();
  }
  w.Key("audit");
  w.StartObject();
  w.Key("enabled"); w.Bool(audit_enabled);
  w.Key("directory"); w.String(audit_directory);
  w.Key("failure_policy"); w.String(audit_best_effort ? "best-effort" : "fail-closed");
  w.Key("digest_interval_seconds"); w.Int(audit_digest_interval_seconds);
  w.Key("durability"); w.String(audit_synced ? "synced" : "written");
  w.EndObject();
  w.Key("threads"); w.Int(threads);
  w.Key("maintenance_interval_seconds"); w.Int(maintenance_interval_seconds);
  if (!iam_home_region.empty() || !iam_home_endpoint.empty()) {
    w.Key("iam");
    w.StartObject();
    if (!iam_home_region.empty()) { w.Key("home_region"); w.String(iam_home_region); }
    if (!iam_home_endpoint.empty()) { w.Key("home_endpoint"); w.String(iam_home_endpoint); }
    w.EndObject();
  }
  if (!rotation_functions_json.empty()) {
    w.Key("rotation_functions");
    w.RawValue(rotation_functions_json.c_str(), rotation_functions_json.size(), rapidjson::kArrayType);
  }
  if (quotas.enabled) {
    w.Key("quotas");
    w.StartObject();
    w.Key("enabled"); w.Bool(true);
    for (size_t i = 0; i < kQuotaClassCount; ++i) {
      const std::string name(QuotaClassName(static_cast<QuotaClass>(i)));
      w.Key(name.c_str());
      w.StartObject();
      w.Key("requests_per_second"); w.Int64(static_cast<int64_t>(quotas.rates[i].requests_per_second));
      if (quotas.rates[i].requests_per_second > 0) {
        w.Key("burst"); w.Int64(static_cast<int64_t>(quotas.rates[i].burst));
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize()) + "\n";
}

std::vector<std::string> RegionConfig::AllRegions() const {
  std::vector<std::string> all{region};
  for (const auto& p : peers) all.push_back(p.region);
  std::sort(all.begin(), all.end());
  return all;
}

std::string RegionConfig::IamHomeRegion() const {
  return iam_home_region.empty() ? AllRegions().front() : iam_home_region;
}

std::string RegionConfig::DataPath(const std::string& name) const {
  if (!name.empty() && name[0] == '/') return name;
  return data_dir + "/" + name;
}

}  // namespace meridian::server
