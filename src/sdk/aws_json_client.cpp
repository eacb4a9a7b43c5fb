#include "sdk/aws_json_client.h"

#include <rapidjson/document.h>

#include <ctime>
#include <vector>

#include "sigv4/request.h"

namespace meridian::sdk {

Result<std::string> CallAwsJson(const HttpEndpoint& endpoint, const sigv4::Signer& signer, std::string_view target,
                                const std::string& json, const HttpOptions& options, std::string_view label) {
  const std::string target_header(target);
  const std::string host = endpoint.HostHeader();  // sigv4::Header holds views: keep the text alive
  std::vector<sigv4::Header> headers = {{"Host", host},
                                        {"Content-Type", "application/x-amz-json-1.1"},
                                        {"X-Amz-Target", target_header}};
  sigv4::RequestView view;
  view.method = "POST";
  view.path = endpoint.base_path;
  view.headers = headers;
  view.payload = json;
  MERIDIAN_ASSIGN_OR_RETURN(auto signed_req, signer.Sign(view, static_cast<int64_t>(std::time(nullptr))));
  std::vector<std::pair<std::string, std::string>> send = {{"Content-Type", "application/x-amz-json-1.1"},
                                                           {"X-Amz-Target", target_header}};
  for (auto& h : signed_req.headers_to_add) send.push_back(h);
  MERIDIAN_ASSIGN_OR_RETURN(HttpResponse resp, HttpPost(endpoint, endpoint.base_path, send, json, options));
  if (resp.status == 200) return resp.body;
  std::string type = std::string(label) + "Error", message = resp.body;
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
  const std::string_view operation = target.substr(target.find('.') == std::string_view::npos ? 0 : target.find('.') + 1);
  return Status(type,
                std::string(label) + " " + std::string(operation) + " failed (HTTP " + std::to_string(resp.status) +
                    "): " + message,
                resp.status);
}

}  // namespace meridian::sdk
