#include "server/request_pipeline.h"

#include "common/aws_json.h"
#include "common/encoding.h"
#include "crypto/crypto.h"
#include "server/http_listener.h"

namespace meridian::server {
namespace {

std::vector<std::string> SigningNames(const std::vector<ApiService*>& services) {
  std::vector<std::string> names;
  for (const ApiService* s : services) names.emplace_back(s->signing_name());
  return names;
}

}  // namespace

std::string NewRequestId() {
  uint8_t r[16];
  crypto::RandomFill(r);
  r[6] = (r[6] & 0x0f) | 0x40;
  r[8] = (r[8] & 0x3f) | 0x80;
  std::string h = HexEncode(ByteView(r, 16));
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" + h.substr(20);
}

RequestPipeline::RequestPipeline(PipelineOptions options, iam::CredentialStore& credentials,
                                 const iam::Authorizer& authorizer, std::vector<ApiService*> services,
                                 const Clock& clock)
    : options_(std::move(options)),
      authorizer_(authorizer),
      services_(std::move(services)),
      verifier_(sigv4::VerifierOptions{options_.region, SigningNames(services_)},
                [&credentials](std::string_view id) { return credentials.Lookup(std::string(id)); }, clock) {}

ApiService* RequestPipeline::Route(std::string_view amz_target) const {
  for (ApiService* s : services_)
    if (amz_target.substr(0, s->target_prefix().size()) == s->target_prefix()) return s;
  return nullptr;
}

ApiResponse RequestPipeline::Error(const Status& status, std::string request_id) const {
  ApiResponse r;
  r.status = status.http_status();
  r.body = AwsJsonErrorBody(status.type(), status.message());
  r.headers.emplace_back("x-amzn-RequestId", std::move(request_id));
  return r;
}

ApiResponse RequestPipeline::Handle(const ApiRequest& request) const {
  std::string request_id = NewRequestId();

  // 1. The protocol envelope.
  const std::string_view target = request.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (request.method != "POST" || path != "/")
    return Error(Status("UnknownOperationException",
                        "Meridian serves the AWS JSON 1.1 protocol: send POST / with an X-Amz-Target header.", 404),
                 request_id);
  auto amz_target = sigv4::FindHeader(request.headers, "x-amz-target");
  ApiService* service = amz_target ? Route(*amz_target) : nullptr;
  if (!service)
    return Error(Status("UnknownOperationException",
                        "The X-Amz-Target header is missing or names no service this endpoint serves "
                        "(expected TrentService.<Operation> or secretsmanager.<Operation>).", 400),
                 request_id);
  const std::string_view operation = amz_target->substr(service->target_prefix().size());

  // 2. Authentication: the signature must be scoped to this service.
  sigv4::RequestView view{request.method, path, query, request.headers, request.body, {}};
  auto caller = verifier_.Verify(view);
  if (!caller.ok()) return Error(caller.status(), request_id);
  if (caller->service != service->signing_name())
    return Error(Status("InvalidSignatureException",
                        "Credential should be scoped to correct service: '" + std::string(service->signing_name()) + "'.",
                        400),
                 request_id);

  if (!service->Knows(operation))
    return Error(Status("UnknownOperationException", "The service has no operation named " + std::string(operation) + ".", 400),
                 request_id);

  // 3. Authorization.
  iam::AuthorizationRequest authz{caller->principal_arn(), caller->account_id(),
                                  std::string(service->action_prefix()) + ":" + std::string(operation),
                                  options_.region, std::string(request.peer_ip), std::string(request.endpoint_id)};
  if (Status st = authorizer_.Authorize(authz); !st.ok()) return Error(st, request_id);

  // 4. The operation.
  auto doc = ParseJsonObject(request.body);
  if (!doc.ok()) return Error(doc.status(), request_id);
  kms::Caller kms_caller{caller->account_id(), caller->principal_arn(), caller->access_key_id()};
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  Status st = service->Handle(operation, *doc, kms_caller, w);
  if (!st.ok()) {
    crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
    return Error(st, request_id);
  }

  ApiResponse r;
  r.body.assign(sb.GetString(), sb.GetSize());
  // The response may hold plaintext (Decrypt, GenerateDataKey): wipe the staging buffer.
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  r.headers.emplace_back("x-amzn-RequestId", std::move(request_id));
  return r;
}

}  // namespace meridian::server
