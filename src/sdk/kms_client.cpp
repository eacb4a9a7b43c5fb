#include "sdk/kms_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "common/encoding.h"
#include "sdk/aws_json_client.h"
#include "sigv4/request.h"

namespace meridian::sdk {
namespace {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

void WriteContext(Writer& w, const EncryptionContext& ec) {
  if (ec.empty()) return;
  w.Key("EncryptionContext");
  w.StartObject();
  for (const auto& [k, v] : ec) {
    w.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  }
  w.EndObject();
}

void WriteGrants(Writer& w, const std::vector<std::string>& grants) {
  if (grants.empty()) return;
  w.Key("GrantTokens");
  w.StartArray();
  for (const auto& g : grants) w.String(g.c_str());
  w.EndArray();
}

Result<rapidjson::Document> ParseJson(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.data(), body.size());
  if (d.HasParseError() || !d.IsObject()) return Status("KmsResponseError", "KMS returned malformed JSON");
  return d;
}

Result<Bytes> Blob(const rapidjson::Document& d, const char* field) {
  if (!d.HasMember(field) || !d[field].IsString()) return Status("KmsResponseError", std::string("KMS response lacks ") + field);
  auto b = Base64Decode(std::string_view(d[field].GetString(), d[field].GetStringLength()));
  if (!b) return Status("KmsResponseError", std::string("KMS response field ") + field + " is not base64");
  return *b;
}

}  // namespace

KmsClient::KmsClient(KmsClientConfig config, HttpEndpoint endpoint)
    : region_(config.region),
      endpoint_(std::move(endpoint)),
      http_(config.http),
      signer_(std::move(config.credentials), config.region, "kms") {}

Result<std::shared_ptr<KmsClient>> KmsClient::Create(KmsClientConfig config) {
  if (config.region.empty()) return Status("InvalidArgument", "KMS client needs a region");
  if (config.endpoint.empty()) config.endpoint = "https://kms." + config.region + ".amazonaws.com";
  MERIDIAN_ASSIGN_OR_RETURN(HttpEndpoint ep, HttpEndpoint::Parse(config.endpoint));
  return std::make_shared<KmsClient>(std::move(config), std::move(ep));
}

Result<std::string> KmsClient::Call(const std::string& operation, const std::string& json) {
  return CallAwsJson(endpoint_, signer_, "TrentService." + operation, json, http_, "KMS");
}

Result<KmsDataKey> KmsClient::GenerateDataKey(const std::string& key_id, size_t n, const EncryptionContext& ec,
                                              const std::vector<std::string>& grants) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("KeyId");
  w.String(key_id.c_str());
  w.Key("NumberOfBytes");
  w.Uint(static_cast<unsigned>(n));
  WriteContext(w, ec);
  WriteGrants(w, grants);
  w.EndObject();
  MERIDIAN_ASSIGN_OR_RETURN(std::string body, Call("GenerateDataKey", sb.GetString()));
  MERIDIAN_ASSIGN_OR_RETURN(auto d, ParseJson(body));
  KmsDataKey out;
  MERIDIAN_ASSIGN_OR_RETURN(Bytes pt, Blob(d, "Plaintext"));
  out.plaintext = crypto::SecureBytes(pt);
  crypto::Cleanse(pt);
  MERIDIAN_ASSIGN_OR_RETURN(out.ciphertext_blob, Blob(d, "CiphertextBlob"));
  if (d.HasMember("KeyId") && d["KeyId"].IsString()) out.key_id = d["KeyId"].GetString();
  return out;
}

Result<KmsDataKey> KmsClient::Encrypt(const std::string& key_id, ByteView plaintext, const EncryptionContext& ec,
                                      const std::vector<std::string>& grants) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  w.Key("KeyId");
  w.String(key_id.c_str());
  w.Key("Plaintext");
  std::string b64 = Base64Encode(plaintext);
  w.String(b64.c_str());
  crypto::Cleanse(b64);
  WriteContext(w, ec);
  WriteGrants(w, grants);
  w.EndObject();
  std::string request = sb.GetString();
  auto body = Call("Encrypt", request);
  crypto::Cleanse(request);
  if (!body.ok()) return body.status();
  MERIDIAN_ASSIGN_OR_RETURN(auto d, ParseJson(*body));
  KmsDataKey out;
  MERIDIAN_ASSIGN_OR_RETURN(out.ciphertext_blob, Blob(d, "CiphertextBlob"));
  if (d.HasMember("KeyId") && d["KeyId"].IsString()) out.key_id = d["KeyId"].GetString();
  return out;
}

Result<KmsDataKey> KmsClient::Decrypt(const std::string& key_id, ByteView blob, const EncryptionContext& ec,
                                      const std::vector<std::string>& grants) {
  rapidjson::StringBuffer sb;
  Writer w(sb);
  w.StartObject();
  if (!key_id.empty()) {
    w.Key("KeyId");
    w.String(key_id.c_str());
  }
  w.Key("CiphertextBlob");
  std::string b64 = Base64Encode(blob);
  w.String(b64.c_str());
  WriteContext(w, ec);
  WriteGrants(w, grants);
  w.EndObject();
  MERIDIAN_ASSIGN_OR_RETURN(std::string body, Call("Decrypt", sb.GetString()));
  MERIDIAN_ASSIGN_OR_RETURN(auto d, ParseJson(body));
  crypto::Cleanse(body);
  KmsDataKey out;
  MERIDIAN_ASSIGN_OR_RETURN(Bytes pt, Blob(d, "Plaintext"));
  out.plaintext = crypto::SecureBytes(pt);
  crypto::Cleanse(pt);
  if (d.HasMember("KeyId") && d["KeyId"].IsString()) out.key_id = d["KeyId"].GetString();
  return out;
}

}  // namespace meridian::sdk
