#include "sdk/aws_credentials.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

namespace meridian::sdk {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

}  // namespace

Result<sigv4::Credentials> CredentialsFromIni(const std::string& text, const std::string& profile) {
  std::istringstream in(text);
  std::string line, section;
  std::map<std::string, std::string> values;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      section = Trim(line.substr(1, line.size() - 2));
      if (section.rfind("profile ", 0) == 0) section = Trim(section.substr(8));
      continue;
    }
    if (section != profile) continue;
    auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    values[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  if (values["aws_access_key_id"].empty() || values["aws_secret_access_key"].empty())
    return Status("MissingCredentials", "profile '" + profile + "' has no aws_access_key_id/aws_secret_access_key");
  return sigv4::Credentials::Make(values["aws_access_key_id"], values["aws_secret_access_key"],
                                  values["aws_session_token"]);
}

Result<sigv4::Credentials> LoadAwsCredentials(const std::string& profile_in) {
  std::string id = Env("AWS_ACCESS_KEY_ID"), secret = Env("AWS_SECRET_ACCESS_KEY");
  if (profile_in.empty() && !id.empty() && !secret.empty())
    return sigv4::Credentials::Make(id, secret, Env("AWS_SESSION_TOKEN"));
  std::string profile = !profile_in.empty() ? profile_in : (Env("AWS_PROFILE").empty() ? "default" : Env("AWS_PROFILE"));
  std::string path = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (path.empty() && !Env("HOME").empty()) path = Env("HOME") + "/.aws/credentials";
  std::ifstream f(path);
  if (!f)
    return Status("MissingCredentials",
                  "no AWS credentials: set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or create " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return CredentialsFromIni(ss.str(), profile);
}

}  // namespace meridian::sdk
