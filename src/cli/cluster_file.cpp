#include "cli/cluster_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <rapidjson/document.h>
#include <rapidjson/prettywriter.h>

namespace meridian::cli {

Status WriteFileAtomically(const std::string& path, const std::string& content, int mode) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status("IOError", "cannot write " + tmp + ": " + std::strerror(errno), 500);
  ::fchmod(fd, static_cast<mode_t>(mode));
  size_t off = 0;
  while (off < content.size()) {
    ssize_t n = ::write(fd, content.data() + off, content.size() - off);
    if (n <= 0) {
      ::close(fd);
      return Status("IOError", "cannot write " + tmp + ": " + std::strerror(errno), 500);
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) return Status("IOError", "cannot sync " + tmp, 500);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Status("IOError", "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno), 500);
  return Status::Ok();
}

Result<ClusterFile> ClusterFile::Load(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status("IOError", "cannot read " + path, 500);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  auto bad = [&] { return Status("ConfigurationError", path + " is malformed; remove it to start over", 500); };
  if (d.HasParseError() || !d.IsObject() || !d.HasMember("account_id") || !d["account_id"].IsString() ||
      !d.HasMember("admin") || !d["admin"].IsObject() || !d.HasMember("regions") || !d["regions"].IsObject())
    return bad();
  const auto& admin = d["admin"];
  if (!admin.HasMember("access_key_id") || !admin["access_key_id"].IsString() ||
      !admin.HasMember("secret_access_key") || !admin["secret_access_key"].IsString())
    return bad();
  ClusterFile c;
  c.account_id = d["account_id"].GetString();
  c.admin_access_key_id = admin["access_key_id"].GetString();
  c.admin_secret_access_key = admin["secret_access_key"].GetString();
  for (auto it = d["regions"].MemberBegin(); it != d["regions"].MemberEnd(); ++it) {
    if (!it->value.IsObject() || !it->value.HasMember("endpoint") || !it->value["endpoint"].IsString()) return bad();
    c.region_endpoints[it->name.GetString()] = it->value["endpoint"].GetString();
    if (it->value.HasMember("frontends")) {
      if (!it->value["frontends"].IsArray()) return bad();
      for (const auto& f : it->value["frontends"].GetArray()) {
        if (!f.IsString()) return bad();
        c.frontend_endpoints[it->name.GetString()].push_back(f.GetString());
      }
    }
  }
  return c;
}

Status ClusterFile::Save(const std::string& path) const {
  rapidjson::StringBuffer sb;
  rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
  w.StartObject();
  w.Key("account_id"); w.String(account_id.c_str());
  w.Key("regions");
  w.StartObject();
  for (const auto& [region, endpoint] : region_endpoints) {
    w.Key(region.c_str());
    w.StartObject();
    w.Key("endpoint"); w.String(endpoint.c_str());
    if (auto f = frontend_endpoints.find(region); f != frontend_endpoints.end()) {
      w.Key("frontends");
      w.StartArray();
      for (const auto& e : f->second) w.String(e.c_str());
      w.EndArray();
    }
    w.EndObject();
  }
  w.EndObject();
  w.Key("admin");
  w.StartObject();
  w.Key("access_key_id"); w.String(admin_access_key_id.c_str());
  w.Key("secret_access_key"); w.String(admin_secret_access_key.c_str());
  w.EndObject();
  w.EndObject();
  return WriteFileAtomically(path, std::string(sb.GetString(), sb.GetSize()) + "\n", 0600);
}

}  // namespace meridian::cli
