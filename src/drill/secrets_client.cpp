#include "drill/secrets_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <thread>

#include "sdk/aws_json_client.h"

namespace meridian::drill {
namespace {

sigv4::Credentials Copy(const sigv4::Credentials& c) {
  sigv4::Credentials copy;
  copy.access_key_id = c.access_key_id;
  copy.secret_access_key = c.secret_access_key.Clone();
  copy.session_token = c.session_token;
  return copy;
}

// Member `member` of the JSON object `text`; RapidJSON's copy is wiped, the caller wipes `text`.
Result<crypto::SecureBytes> StringMember(std::string_view text, const char* member) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(member) || !doc[member].IsString()) {
    return errors::NotFound(std::string("the JSON has no string member '") + member + "'");
  }
  const auto& value = doc[member];
  crypto::SecureBytes out(ByteView(reinterpret_cast<const uint8_t*>(value.GetString()), value.GetStringLength()));
  // RapidJSON copied the string into its own pool: wipe it before the document frees it.
  crypto::Cleanse(const_cast<char*>(value.GetString()), value.GetStringLength());
  return out;
}

}  // namespace

SecretsClient::SecretsClient(std::string region, sdk::HttpEndpoint endpoint, sigv4::Credentials credentials,
                             sdk::HttpOptions http)
    : region_(region), endpoint_(std::move(endpoint)), http_(std::move(http)),
      signer_(std::move(credentials), std::move(region), "secretsmanager") {}

Result<std::unique_ptr<SecretsClient>> SecretsClient::Create(std::string region, std::string endpoint,
                                                             const sigv4::Credentials& credentials,
                                                             sdk::HttpOptions http) {
  MERIDIAN_ASSIGN_OR_RETURN(sdk::HttpEndpoint parsed, sdk::HttpEndpoint::Parse(endpoint));
  return std::unique_ptr<SecretsClient>(
      new SecretsClient(std::move(region), std::move(parsed), Copy(credentials), std::move(http)));
}

Result<std::string> SecretsClient::Call(const std::string& operation, const std::string& json) {
  return sdk::CallAwsJson(endpoint_, signer_, "secretsmanager." + operation, json, http_, "SecretsManager");
}

Result<std::string> SecretsClient::CreateReplicatedSecret(const std::string& name,
                                                          const crypto::SecureBytes& secret_string,
                                                          const std::vector<std::string>& replica_regions) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("Name");
  w.String(name);
  w.Key("SecretString");
  w.String(reinterpret_cast<const char*>(secret_string.data()), static_cast<rapidjson::SizeType>(secret_string.size()));
  w.Key("AddReplicaRegions");
  w.StartArray();
  for (const std::string& region : replica_regions) {
    w.StartObject();
    w.Key("Region");
    w.String(region);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  std::string body(buffer.GetString(), buffer.GetSize());
  crypto::Cleanse(const_cast<char*>(buffer.GetString()), buffer.GetSize());
  auto response = Call("CreateSecret", body);
  crypto::Cleanse(body);
  if (!response.ok()) return response.status();
  rapidjson::Document doc;
  doc.Parse(*response);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("ARN") || !doc["ARN"].IsString()) {
    return Status("SecretsManagerError", "CreateSecret's answer has no ARN", 500);
  }
  return std::string(doc["ARN"].GetString());
}

Result<crypto::SecureBytes> SecretsClient::GetSecretString(const std::string& secret_id,
                                                           const std::string& version_stage) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  w.Key("SecretId");
  w.String(secret_id);
  w.Key("VersionStage");
  w.String(version_stage);
  w.EndObject();
  auto response = Call("GetSecretValue", buffer.GetString());
  if (!response.ok()) return response.status();
  auto value = StringMember(*response, "SecretString");
  crypto::Cleanse(*response);
  return value;
}

Result<crypto::SecureBytes> SecretsClient::WaitForSecretString(const std::string& secret_id,
                                                               std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto value = GetSecretString(secret_id);
    if (value.ok() || value.status().type() != "ResourceNotFoundException" ||
        std::chrono::steady_clock::now() >= deadline) {
      return value;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<crypto::SecureBytes> JsonStringMember(const crypto::SecureBytes& json, const char* member) {
  return StringMember(std::string_view(reinterpret_cast<const char*>(json.data()), json.size()), member);
}

}  // namespace meridian::drill
