#include "sdk/kms_client.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <ctime>

#include "common/encoding.h"
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
  std::string target = "TrentService." + operation;
  std::string host = endpoint_.HostHeader();
  std::vector<sigv4::Header> headers = {{"Host", host},
                                        {"Content-Type", "application/x-amz-json-1.1"},
                                        {"X-Amz-Target", target}};
  sigv4::RequestView view;
  view.method = "POST";
  view.path = endpoint_.base_path;
  view.headers = headers;
  view.payload = json;
  MERIDIAN_ASSIGN_OR_RETURN(auto signed_req, signer_.Sign(view, static_cast<int64_t>(std::time(nullptr))));
  std::vector<std::pair<std::string, std::string>> send = {{"Content-Type", "application/x-amz-json-1.1"},
                                                           {"X-Amz-Target", target}};
  for (auto& h : signed_req.headers_to_add) send.push_back(h);
  MERIDIAN_ASSIGN_OR_RETURN(HttpResponse resp, HttpPost(endpoint_, endpoint_.base_path, send, json, http_));
  if (resp.status == 200) return resp.body;
  std::string type = "KmsError", message = resp.body;
  rapidjson::Document d;
  d.Parse(resp.body.data(), resp.body.size());
  if (!d.HasParseError() && d.IsObject()) {
    if (d.HasMember("__type") && d["__type"].IsString()) {
      type = d["__type"].GetString();
      if (auto hash = type.rfind('#'); hash != std::string::npos) type = type.substr(hash + 1);
    }
    for (const char* f : {"message", "Message"})
      if (d.HasMember(f) && d[f].IsString()) message = d[f].GetString();
  }
  return Status(type, "KMS " + operation + " failed (HTTP " + std::to_string(resp.status) + "): " + message,
                resp.status);
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
