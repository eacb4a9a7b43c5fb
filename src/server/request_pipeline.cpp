#include "server/request_pipeline.h"

#include <algorithm>

#include "audit/record.h"
#include "audit/redaction.h"
#include "audit/resources.h"
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

std::string_view EventSourceOf(std::string_view signing_name) {
  if (signing_name == "kms") return audit::kKmsEventSource;
  if (signing_name == "secretsmanager") return audit::kSecretsManagerEventSource;
  return signing_name;
}

}  // namespace

struct RequestPipeline::Outcome {
  ApiResponse response;
  std::string request_id;
  std::string event_source;
  std::string event_name;
  std::optional<sigv4::Caller> caller;
  std::string decision = "NotEvaluated";
  std::string matched_statement, deciding_policy;
  std::string request_parameters;  // redacted
  std::string response_elements;   // redacted
  std::vector<audit::ResourceRef> resources;
  std::string error_code, error_message;

  void Fail(const Status& status) {
    response.status = status.http_status();
    response.body = AwsJsonErrorBody(status.type(), status.message());
    error_code = status.type();
    error_message = status.message();
  }
};

std::string NewRequestId() {
  return crypto::RandomUuid();
}

RequestPipeline::RequestPipeline(PipelineOptions options, iam::CredentialStore& credentials,
                                 const iam::Authorizer& authorizer, std::vector<ApiService*> services,
                                 audit::AuditLog* audit, const Clock& clock)
    : options_(std::move(options)),
      authorizer_(authorizer),
      services_(std::move(services)),
      audit_(audit),
      clock_(clock),
      verifier_(sigv4::VerifierOptions{options_.region, SigningNames(services_)},
                [&credentials](std::string_view id) { return credentials.Lookup(std::string(id)); }, clock) {}

ApiService* RequestPipeline::Route(std::string_view amz_target) const {
  for (ApiService* s : services_)
    if (amz_target.substr(0, s->target_prefix().size()) == s->target_prefix()) return s;
  return nullptr;
}

void RequestPipeline::Execute(const ApiRequest& request, Outcome& out) const {
  // 1. The protocol envelope.
  const std::string_view target = request.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  if (request.method != "POST" || path != "/")
    return out.Fail(Status("UnknownOperationException",
                           "Meridian serves the AWS JSON 1.1 protocol: send POST / with an X-Amz-Target header.", 404));
  auto amz_target = sigv4::FindHeader(request.headers, "x-amz-target");
  ApiService* service = amz_target ? Route(*amz_target) : nullptr;
  if (!service)
    return out.Fail(Status("UnknownOperationException",
                           "The X-Amz-Target header is missing or names no service this endpoint serves "
                           "(expected TrentService.<Operation> or secretsmanager.<Operation>).", 400));
  const std::string_view operation = amz_target->substr(service->target_prefix().size());
  out.event_source = EventSourceOf(service->signing_name());
  out.event_name = operation;

  // 2. Authentication: the signature must be scoped to this service.
  sigv4::RequestView view{request.method, path, query, request.headers, request.body, {}};
  auto caller = verifier_.Verify(view);
  if (!caller.ok()) return out.Fail(caller.status());
  out.caller = *caller;
  if (caller->service != service->signing_name())
    return out.Fail(Status("InvalidSignatureException",
                           "Credential should be scoped to correct service: '" + std::string(service->signing_name()) +
                               "'.", 400));
  if (!service->Knows(operation))
    return out.Fail(Status("UnknownOperationException",
                           "The service has no operation named " + std::string(operation) + ".", 400));

  auto doc = ParseJsonObject(request.body);
  if (!doc.ok()) return out.Fail(doc.status());
  if (audit_) out.request_parameters = audit::RedactMessage(out.event_source, *doc);

  // 3. Authorization: the caller, the action, the resource the request names and its policy.
  Caller service_caller{caller->account_id(), caller->principal_arn(), caller->access_key_id()};
  iam::AuthorizationRequest authz;
  authz.partition = options_.partition;
  authz.principal_arn = caller->principal_arn();
  authz.principal_account = caller->account_id();
  authz.access_key_id = caller->access_key_id();
  authz.action = std::string(service->action_prefix()) + ":" + std::string(operation);
  authz.region = options_.region;
  authz.source_ip = std::string(request.peer_ip);
  authz.source_vpce = std::string(request.endpoint_id);
  authz.secure_transport = request.secure_transport;
  authz.now_ms = clock_.NowMillis();
  if (auto resource = service->ResourceFor(operation, *doc, service_caller)) {
    authz.resource_arn = std::move(resource->arn);
    authz.resource_account = std::move(resource->account_id);
    authz.resource_policy = std::move(resource->policy);
    authz.resource_policy_kind = resource->policy_kind;
    authz.context = std::move(resource->context);
    authz.allowing_grant_id = std::move(resource->allowing_grant_id);
    out.resources.push_back({authz.resource_arn,
                             std::string(service->signing_name() == "kms" ? audit::kKmsKeyResourceType
                                                                           : audit::kSecretResourceType),
                             authz.resource_account});
    if (authz.resource_policy_kind == iam::policy::ResourcePolicyKind::kKeyPolicy && !authz.resource_policy) {
      out.decision = "ImplicitDeny";
      return out.Fail(errors::AccessDenied("The policy of " + authz.resource_arn +
                                           " cannot be evaluated; replace it with PutKeyPolicy."));
    }
  }
  iam::AuthorizationResult decision;
  Status allowed = authorizer_.Authorize(authz, &decision);
  out.decision = decision.decision;
  out.matched_statement = decision.matched_statement;
  out.deciding_policy = decision.policy;
  if (!allowed.ok()) return out.Fail(allowed);
  // A fail-closed audit trail that cannot write refuses work up front rather than acting unaudited.
  if (audit_ && audit_->options().failure_policy == audit::FailurePolicy::kFailClosed) {
    if (Status health = audit_->Health(); !health.ok())
      return out.Fail(Status("InternalFailure", "The audit trail cannot be written; the request was not performed.", 500));
  }

  // 4. The operation.
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  Status st = service->Handle(operation, *doc, service_caller, w);
  if (!st.ok()) {
    crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
    return out.Fail(st);
  }
  out.response.body.assign(sb.GetString(), sb.GetSize());
  // The response may hold plaintext (Decrypt, GenerateDataKey): wipe the staging buffer.
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  if (audit_) {
    // One parse of the response serves redaction and resources; its strings may hold plaintext
    // (Decrypt, GenerateDataKey) and are wiped before the document is freed.
    rapidjson::Document response;
    response.Parse(out.response.body.data(), out.response.body.size());
    out.response_elements = audit::RedactMessage(out.event_source, response);
    auto named = audit::InferResources(out.event_source, {options_.partition, options_.region, caller->account_id()},
                                       nullptr, &response);
    for (auto& r : named)
      if (std::none_of(out.resources.begin(), out.resources.end(), [&](const auto& e) { return e.arn == r.arn; }))
        out.resources.push_back(std::move(r));
    if (response.IsObject())
      for (auto& m : response.GetObject())
        if (m.value.IsString()) crypto::Cleanse(const_cast<char*>(m.value.GetString()), m.value.GetStringLength());
  }
}

void RequestPipeline::Audit(const ApiRequest& request, Outcome out, Respond respond) const {
  audit::AuditRecord r;
  r.event_source = out.event_source.empty() ? "unknown" : out.event_source;
  r.event_name = out.event_name.empty() ? "Unknown" : out.event_name;
  r.aws_region = options_.region;
  r.source_ip_address = std::string(request.peer_ip);
  r.vpc_endpoint_id = std::string(request.endpoint_id);
  if (auto ua = sigv4::FindHeader(request.headers, "user-agent")) r.user_agent = std::string(ua->substr(0, 1024));
  if (out.caller) {
    const auto& c = *out.caller;
    const std::string& arn = c.principal_arn();
    r.user_identity.type = arn.size() > 5 && arn.compare(arn.size() - 5, 5, ":root") == 0 ? "Root" : "IAMUser";
    r.user_identity.arn = arn;
    r.user_identity.account_id = c.account_id();
    r.user_identity.principal_id = c.account_id();
    r.user_identity.access_key_id = c.access_key_id();
    r.recipient_account_id = c.account_id();
  } else {
    // Not authenticated: record the access key the request claimed (an investigator's lead).
    const std::string_view target = request.target;
    const size_t q = target.find('?');
    sigv4::RequestView view{request.method, target.substr(0, q),
                            q == std::string_view::npos ? std::string_view() : target.substr(q + 1),
                            request.headers, request.body, {}};
    if (auto claimed = sigv4::ClaimedCredentialOf(view)) r.user_identity.access_key_id = claimed->access_key_id;
  }
  r.request_parameters = std::move(out.request_parameters);
  r.response_elements = std::move(out.response_elements);
  r.resources = std::move(out.resources);
  r.error_code = std::move(out.error_code);
  r.error_message = std::move(out.error_message);
  r.request_id = out.request_id;
  r.read_only = audit::IsReadOnlyEvent(r.event_name);
  r.authorization.decision = out.decision;
  r.authorization.matched_statement = out.matched_statement;
  r.authorization.policy = out.deciding_policy;
  audit_->AppendAsync(std::move(r), [response = std::move(out.response), request_id = out.request_id,
                                     respond = std::move(respond)](const Status& st, uint64_t) mutable {
    if (!st.ok()) {
      crypto::Cleanse(response.body);
      ApiResponse failed;
      failed.status = 500;
      failed.body = AwsJsonErrorBody("InternalFailure", "The request could not be recorded in the audit trail.");
      failed.headers.emplace_back("x-amzn-RequestId", request_id);
      respond(std::move(failed));
      return;
    }
    respond(std::move(response));
  });
}

void RequestPipeline::Handle(const ApiRequest& request, Respond respond) const {
  Outcome out;
  out.request_id = NewRequestId();
  Execute(request, out);
  out.response.headers.emplace_back("x-amzn-RequestId", out.request_id);
  if (!audit_) return respond(std::move(out.response));
  Audit(request, std::move(out), std::move(respond));
}

}  // namespace meridian::server
