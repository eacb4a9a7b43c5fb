#include "server/request_pipeline.h"

#include <algorithm>
#include <cctype>

#include "audit/record.h"
#include "audit/redaction.h"
#include "audit/resources.h"
#include "audit/response_audit.h"
#include "common/aws_json.h"
#include "common/encoding.h"
#include "crypto/crypto.h"
#include "crypto/random_pool.h"
#include "server/http_listener.h"
#include "server/query_protocol.h"

namespace meridian::server {
namespace {

std::vector<std::string> SigningNames(const std::vector<ApiService*>& services) {
  std::vector<std::string> names;
  for (const ApiService* s : services) names.emplace_back(s->signing_name());
  return names;
}

bool HasService(const std::vector<ApiService*>& services, std::string_view signing_name) {
  return std::any_of(services.begin(), services.end(), [&](const ApiService* s) { return s->signing_name() == signing_name; });
}

std::string_view EventSourceOf(std::string_view signing_name) {
  if (signing_name == "kms") return audit::kKmsEventSource;
  if (signing_name == "secretsmanager") return audit::kSecretsManagerEventSource;
  if (signing_name == "iam") return audit::kIamEventSource;
  if (signing_name == "sts") return audit::kStsEventSource;
  return signing_name;
}

// CloudTrail's resource type for an ARN the authorizer saw.
std::string ResourceTypeOf(std::string_view signing_name, std::string_view arn) {
  if (signing_name == "kms") return std::string(audit::kKmsKeyResourceType);
  if (signing_name == "secretsmanager") return std::string(audit::kSecretResourceType);
  for (auto [marker, type] : {std::pair{":user/", "AWS::IAM::User"}, std::pair{":role/", "AWS::IAM::Role"},
                              std::pair{":group/", "AWS::IAM::Group"}, std::pair{":policy/", "AWS::IAM::Policy"},
                              std::pair{":mfa/", "AWS::IAM::MFADevice"}})
    if (arn.find(marker) != std::string_view::npos) return type;
  return "AWS::" + std::string(signing_name);
}

// The Query protocol's names (and statuses) for errors the pipeline and the verifier raise in
// AWS JSON terms; a service's own errors already carry Query codes and pass through.
std::pair<std::string_view, int> QueryErrorOf(const Status& status) {
  struct Rename {
    std::string_view json, query;
    int http_status;
  };
  static constexpr Rename kRenames[] = {
      {"AccessDeniedException", "AccessDenied", 403},
      {"ThrottlingException", "Throttling", 400},
      {"InvalidSignatureException", "SignatureDoesNotMatch", 403},
      {"UnrecognizedClientException", "InvalidClientTokenId", 403},
      {"IncompleteSignatureException", "IncompleteSignature", 400},
      {"MissingAuthenticationTokenException", "MissingAuthenticationToken", 403},
      {"ExpiredTokenException", "ExpiredToken", 400},
      {"UnknownOperationException", "InvalidAction", 400},
      {"SerializationException", "MalformedQueryString", 400},
  };
  for (const auto& r : kRenames)
    if (status.type() == r.json) return {r.query, r.http_status};
  return {status.type(), status.http_status()};
}

bool IsFormContentType(std::optional<std::string_view> content_type) {
  if (!content_type) return false;
  constexpr std::string_view kForm = "application/x-www-form-urlencoded";
  if (content_type->size() < kForm.size()) return false;
  for (size_t i = 0; i < kForm.size(); ++i)
    if (std::tolower(static_cast<unsigned char>((*content_type)[i])) != kForm[i]) return false;
  return content_type->size() == kForm.size() || (*content_type)[kForm.size()] == ';' ||
         (*content_type)[kForm.size()] == ' ';
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
  const query::Dialect* dialect = nullptr;  // set once the request is known to be a Query request

  void Fail(const Status& status) {
    if (dialect) {
      const auto [code, http_status] = QueryErrorOf(status);
      response.status = http_status;
      response.content_type = "text/xml";
      response.body = query::RenderError(*dialect, code, status.message(), http_status, request_id);
      error_code = code;
    } else {
      response.status = status.http_status();
      response.content_type = "application/x-amz-json-1.1";
      response.body = AwsJsonErrorBody(status.type(), status.message());
      error_code = status.type();
    }
    error_message = status.message();
  }
};

// What the protocol envelope names: the service, the operation and its parameters (as JSON).
struct RequestPipeline::Envelope {
  ApiService* service = nullptr;
  std::string operation;
  rapidjson::Document params;
  const sigv4::Verifier* verifier = nullptr;
};

std::string NewRequestId() { return crypto::PooledRandomUuid(); }

RequestPipeline::RequestPipeline(PipelineOptions options, iam::CredentialStore& credentials,
                                 const iam::Authorizer& authorizer, std::vector<ApiService*> services,
                                 audit::AuditLog* audit, const Clock& clock)
    : options_(std::move(options)),
      authorizer_(authorizer),
      services_(std::move(services)),
      audit_(audit),
      clock_(clock),
      verifier_(sigv4::VerifierOptions{options_.region, SigningNames(services_)},
                [&credentials](std::string_view id) { return credentials.Lookup(std::string(id)); }, clock),
      quotas_(options_.quotas, clock) {
  if (HasService(services_, "iam")) {
    std::vector<std::string> regions = options_.iam_signing_regions;
    regions.emplace_back(kGlobalIamRegion);
    for (const auto& region : regions)
      if (region != options_.region && !iam_verifiers_.count(region))
        iam_verifiers_[region] = std::make_unique<sigv4::Verifier>(
            sigv4::VerifierOptions{region, {"iam"}},
            [&credentials](std::string_view id) { return credentials.Lookup(std::string(id)); }, clock);
  }
}

ApiService* RequestPipeline::Route(std::string_view amz_target) const {
  for (ApiService* s : services_)
    if (!s->query_dialect() && amz_target.substr(0, s->target_prefix().size()) == s->target_prefix()) return s;
  return nullptr;
}

ApiService* RequestPipeline::RouteQuery(std::string_view signing_name) const {
  for (ApiService* s : services_)
    if (s->query_dialect() && s->signing_name() == signing_name) return s;
  return nullptr;
}

// AWS JSON 1.1: the X-Amz-Target names service and operation; the body is parsed only once the
// caller is authenticated (below), so here it stays empty.
bool RequestPipeline::OpenJsonEnvelope(const ApiRequest& request, Envelope& env, Outcome& out) const {
  auto amz_target = sigv4::FindHeader(request.headers, "x-amz-target");
  env.service = amz_target ? Route(*amz_target) : nullptr;
  if (!env.service) {
    out.Fail(Status("UnknownOperationException",
                    "The X-Amz-Target header is missing or names no service this endpoint serves "
                    "(expected TrentService.<Operation> or secretsmanager.<Operation>; IAM and STS take "
                    "form-encoded Query requests).", 400));
    return false;
  }
  env.operation = std::string(amz_target->substr(env.service->target_prefix().size()));
  env.verifier = &verifier_;
  out.event_source = EventSourceOf(env.service->signing_name());
  out.event_name = env.operation;
  return true;
}

// AWS Query: the credential scope's service picks IAM or STS, the body's Action the operation.
bool RequestPipeline::OpenQueryEnvelope(const ApiRequest& request, Envelope& env, Outcome& out) const {
  const size_t q = request.target.find('?');
  sigv4::RequestView view{request.method, request.target.substr(0, q),
                          q == std::string_view::npos ? std::string_view() : request.target.substr(q + 1),
                          request.headers, request.body, {}};
  const auto claimed = sigv4::ClaimedCredentialOf(view);
  env.service = RouteQuery(claimed ? std::string_view(claimed->service) : std::string_view("iam"));
  if (!env.service) {
    out.Fail(Status("UnknownOperationException",
                    "A form-encoded request must be signed for a Query service this endpoint serves (iam or sts), "
                    "not '" + (claimed ? claimed->service : std::string()) + "'.", 400));
    return false;
  }
  out.dialect = env.service->query_dialect();
  out.event_source = EventSourceOf(env.service->signing_name());
  // The GET form carries the pairs in the query string (query_protocol.h).
  auto parsed = request.method == "GET" ? query::ParseQueryString(view.query) : query::ParseFormBody(request.body);
  if (!parsed.ok()) {
    out.Fail(parsed.status());
    return false;
  }
  if (parsed->action.empty()) {
    out.Fail(Status("MissingAction", "The request must contain the parameter Action.", 400));
    return false;
  }
  out.event_name = parsed->action.substr(0, 128);
  if (!parsed->version.empty() && parsed->version != out.dialect->api_version) {
    out.Fail(Status("InvalidAction", "Could not find operation " + out.event_name + " for version " +
                                         parsed->version.substr(0, 32) + ".", 400));
    return false;
  }
  env.operation = std::move(parsed->action);
  env.params = std::move(parsed->params);
  env.verifier = &verifier_;
  if (claimed && claimed->service == "iam")
    if (auto it = iam_verifiers_.find(claimed->region); it != iam_verifiers_.end()) env.verifier = it->second.get();
  return true;
}

void RequestPipeline::Execute(const ApiRequest& request, Outcome& out) const {
  // 1. The protocol envelope.
  const std::string_view target = request.target;
  const size_t q = target.find('?');
  const std::string_view path = target.substr(0, q);
  const std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
  const bool is_get_query = request.method == "GET" && path == "/" && !query.empty() &&
                            !sigv4::FindHeader(request.headers, "x-amz-target");
  if ((request.method != "POST" && !is_get_query) || path != "/")
    return out.Fail(Status("UnknownOperationException",
                           "Meridian serves the AWS JSON 1.1 protocol (POST / with an X-Amz-Target header) and, "
                           "for IAM and STS, the Query protocol (POST / with a form-encoded body).", 404));
  Envelope env;
  const bool is_query = is_get_query || (!sigv4::FindHeader(request.headers, "x-amz-target") &&
                                         IsFormContentType(sigv4::FindHeader(request.headers, "content-type")));
  if (!(is_query ? OpenQueryEnvelope(request, env, out) : OpenJsonEnvelope(request, env, out))) return;
  ApiService* service = env.service;
  const std::string_view operation = env.operation;

  // 2. Authentication: the signature must be scoped to this service.
  sigv4::RequestView view{request.method, path, query, request.headers, request.body, {}};
  auto verified = env.verifier->Verify(view);
  if (!verified.ok()) return out.Fail(verified.status());
  const sigv4::Caller* caller = &out.caller.emplace(std::move(*verified));
  if (caller->service != service->signing_name())
    return out.Fail(Status("InvalidSignatureException",
                           "Credential should be scoped to correct service: '" + std::string(service->signing_name()) +
                               "'.", 400));
  if (!service->Knows(operation))
    return out.Fail(Status("UnknownOperationException",
                           "The service has no operation named " + std::string(operation) + ".", 400));

  if (!is_query) {
    auto doc = ParseJsonObject(request.body);
    if (!doc.ok()) return out.Fail(doc.status());
    env.params = std::move(*doc);
  }
  const rapidjson::Document& params = env.params;
  if (audit_) out.request_parameters = audit::RedactMessage(out.event_source, params);

  // 3. Quota: a token from the account's bucket for this class of operation.
  if (quotas_.enabled() &&
      !quotas_.TryAcquire(caller->account_id(), ClassifyOperation(service->signing_name(), operation)))
    return out.Fail(Status("ThrottlingException", "Rate exceeded", 400));

  // 4. Authorization: the caller, the action, the resource the request names and its policy.
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
  // Every resource the request acts on must allow it (one for most operations; ReEncrypt names
  // two keys). The decision recorded is the one that refused, or the last one that allowed.
  std::vector<iam::AuthorizationResource> resources;
  if (auto resource = service->ResourceFor(operation, params, service_caller)) {
    auto more = std::move(resource->also_required);
    resources.push_back(std::move(*resource));
    for (auto& r : more) resources.push_back(std::move(r));
  } else {
    resources.emplace_back();  // no resource: the action alone, on "*"
  }
  const std::string operation_action = authz.action;
  for (auto& resource : resources) {
    authz.action = resource.action.empty() ? operation_action : std::move(resource.action);
    authz.resource_arn = std::move(resource.arn);
    authz.resource_account = std::move(resource.account_id);
    authz.resource_policy = std::move(resource.policy);
    authz.resource_policy_kind = resource.policy_kind;
    authz.context = std::move(resource.context);
    authz.allowing_grant_id = std::move(resource.allowing_grant_id);
    if (!authz.resource_arn.empty() &&
        std::none_of(out.resources.begin(), out.resources.end(), [&](const auto& e) { return e.arn == authz.resource_arn; }))
      out.resources.push_back({authz.resource_arn, ResourceTypeOf(service->signing_name(), authz.resource_arn),
                               authz.resource_account});
    if (authz.resource_policy_kind == iam::policy::ResourcePolicyKind::kKeyPolicy && !authz.resource_policy) {
      out.decision = "ImplicitDeny";
      return out.Fail(errors::AccessDenied("The policy of " + authz.resource_arn +
                                           " cannot be evaluated; replace it with PutKeyPolicy."));
    }
    iam::AuthorizationResult decision;
    Status allowed = authorizer_.Authorize(authz, &decision);
    out.decision = std::move(decision.decision);
    out.matched_statement = std::move(decision.matched_statement);
    out.deciding_policy = std::move(decision.policy);
    if (!allowed.ok()) return out.Fail(allowed);
  }
  // A fail-closed audit trail that cannot write refuses work up front rather than acting unaudited.
  if (audit_ && audit_->options().failure_policy == audit::FailurePolicy::kFailClosed) {
    if (Status health = audit_->Health(); !health.ok())
      return out.Fail(Status("InternalFailure", "The audit trail cannot be written; the request was not performed.", 500));
  }

  // 5. The operation.
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  Status st = service->Handle(operation, params, service_caller, w);
  if (!st.ok()) {
    crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
    return out.Fail(st);
  }
  // The output may hold plaintext (Decrypt, GenerateDataKey) or credentials (CreateAccessKey,
  // AssumeRole): every copy but the response body is wiped.
  rapidjson::Document response;
  const bool need_document = out.dialect != nullptr;  // Query responses are rendered from the document
  if (need_document) response.Parse(sb.GetString(), sb.GetSize());
  const audit::ResourceContext resource_context{options_.partition, options_.region, caller->account_id()};
  if (out.dialect) {
    if (sb.GetSize() != 0 && response.HasParseError()) {
      crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
      return out.Fail(Status("InternalFailure", "The service produced a response that could not be rendered.", 500));
    }
    out.response.content_type = "text/xml";
    static const rapidjson::Value kNoOutput;
    const rapidjson::Value& result = response.HasParseError() ? kNoOutput : static_cast<const rapidjson::Value&>(response);
    out.response.body = query::RenderResponse(*out.dialect, operation, result, out.request_id);
  } else {
    out.response.body.assign(sb.GetString(), sb.GetSize());
  }
  crypto::Cleanse(const_cast<char*>(sb.GetString()), sb.GetSize());
  if (audit_) {
    // A Query response was parsed for rendering: that document serves the record too. A JSON
    // response is read once, for the members the record keeps (plaintext and blobs are skipped).
    audit::ResponseAudit recorded;
    if (need_document) {
      recorded.response_elements = audit::RedactMessage(out.event_source, response);
      recorded.resources = audit::InferResources(out.event_source, resource_context, nullptr, &response);
    } else {
      recorded = audit::AuditResponse(out.event_source, resource_context, out.response.body);
    }
    out.response_elements = std::move(recorded.response_elements);
    for (auto& r : recorded.resources)
      if (std::none_of(out.resources.begin(), out.resources.end(), [&](const auto& e) { return e.arn == r.arn; }))
        out.resources.push_back(std::move(r));
  }
  if (need_document) audit::WipeStrings(response);
}

void RequestPipeline::Audit(const ApiRequest& request, Outcome out, Respond respond) const {
  audit::AuditRecord r;
  r.event_source = out.event_source.empty() ? "unknown" : std::move(out.event_source);
  r.event_name = out.event_name.empty() ? "Unknown" : std::move(out.event_name);
  r.aws_region = options_.region;
  r.source_ip_address = std::string(request.peer_ip);
  r.vpc_endpoint_id = std::string(request.endpoint_id);
  if (auto ua = sigv4::FindHeader(request.headers, "user-agent")) r.user_agent = std::string(ua->substr(0, 1024));
  if (out.caller) {
    const auto& c = *out.caller;
    const std::string& arn = c.principal_arn();
    r.user_identity.type = arn.size() > 5 && arn.compare(arn.size() - 5, 5, ":root") == 0 ? "Root"
                           : arn.find(":assumed-role/") != std::string::npos                 ? "AssumedRole"
                                                                                              : "IAMUser";
    r.user_identity.arn = arn;
    r.user_identity.account_id = c.account_id();
    // AIDA... (user), AROA...:<session> (assumed role), account id (root), as CloudTrail records.
    r.user_identity.principal_id = c.credential->principal_id.empty() ? c.account_id() : c.credential->principal_id;
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
  r.request_id = std::move(out.request_id);
  r.read_only = audit::IsReadOnlyEvent(r.event_name);
  r.authorization.decision = std::move(out.decision);
  r.authorization.matched_statement = std::move(out.matched_statement);
  r.authorization.policy = std::move(out.deciding_policy);
  audit_->AppendAsync(std::move(r), [response = std::move(out.response), dialect = out.dialect,
                                     respond = std::move(respond)](const Status& st, uint64_t) mutable {
    if (!st.ok()) {
      crypto::Cleanse(response.body);
      std::string request_id;  // Handle put it in the response's headers
      for (const auto& [name, value] : response.headers)
        if (name == "x-amzn-RequestId") request_id = value;
      Outcome failed;
      failed.request_id = request_id;
      failed.dialect = dialect;
      failed.Fail(Status("InternalFailure", "The request could not be recorded in the audit trail.", 500));
      failed.response.headers.emplace_back("x-amzn-RequestId", request_id);
      respond(std::move(failed.response));
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
