// RequestPipeline: how one region answers an API request, independent of the transport.
//
// Data flows one way: parse the protocol envelope, verify SigV4, check the request quota, ask the
// authorizer, run the service operation, render the response. Every response, success or error,
// carries x-amzn-RequestId. Nothing here throws; bad input becomes a 4xx.
//
// Two envelopes:
//   - AWS JSON 1.1 (KMS, Secrets Manager, Meridian's admin API): POST / with X-Amz-Target,
//     routed by the target's prefix; errors {"__type": ..., "message": ...}.
//   - AWS Query (IAM, STS): POST / with a form-encoded body and no X-Amz-Target, routed by the
//     service of the SigV4 credential scope ("iam", "sts"); the body's Action names the
//     operation; responses and errors are XML (server/query_protocol.h). Errors the pipeline
//     raises are renamed to the Query codes AWS uses (AccessDenied, Throttling,
//     SignatureDoesNotMatch, InvalidClientTokenId, ...).
// IAM is global: an iam request is accepted when signed for this region (what the aws cli and
// boto3 sign with --endpoint-url and --region R) or for us-east-1 (IAM's signing region at AWS).
//
// Quotas (server/quota.h) are checked after authentication, before authorization: a request
// over its account's bucket gets ThrottlingException (JSON) / Throttling (Query), "Rate
// exceeded", HTTP 400.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <functional>
#include <memory>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "common/unique_function.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "server/api_service.h"
#include "server/quota.h"
#include "sigv4/verifier.h"

namespace meridian::server {

// The region IAM requests are signed for at AWS (IAM is a global service): every region accepts
// it for "iam" besides its own name.
inline constexpr std::string_view kGlobalIamRegion = "us-east-1";

struct ApiRequest {
  std::string_view method;
  std::string_view target;  // request-target: path and optional ?query, as received
  std::span<const sigv4::Header> headers;
  std::string_view body;
  std::string_view peer_ip;
  std::string_view endpoint_id;  // the listener's endpoint id ("" when it has none)
  bool secure_transport = false;  // arrived over TLS
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/x-amz-json-1.1";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

struct PipelineOptions {
  std::string region;
  std::string partition = "aws";
  QuotaConfig quotas;  // off by default
  // IAM is global: besides this region, `iam` signatures scoped to these regions are accepted
  // (IAM's own signing region us-east-1 always; a deployment adds its regions, so that the edge
  // can send every IAM request to the home region whatever region the client signs for).
  std::vector<std::string> iam_signing_regions;
};

// Receives the response, once; may be called on another thread (the audit log's writer).
// Move-only: a callback that owns its responder is stored without a heap allocation.
using Respond = UniqueFunction<void(ApiResponse)>;

class RequestPipeline {
 public:
  // All references (and the services) must outlive the pipeline. JSON services are routed by
  // their X-Amz-Target prefix, Query services (query_dialect() set) by their signing name.
  // With `audit` set, every request (allowed or denied, authenticated or not) is recorded and its
  // response is released only once the record is durable; a fail-closed log that cannot write
  // turns the response into an error (nothing is acknowledged unaudited).
  RequestPipeline(PipelineOptions options, iam::CredentialStore& credentials, const iam::Authorizer& authorizer,
                  std::vector<ApiService*> services, audit::AuditLog* audit = nullptr,
                  const Clock& clock = SystemClock::Instance());

  void Handle(const ApiRequest& request, Respond respond) const;

 private:
  struct Outcome;   // the response plus what the audit record needs
  struct Envelope;  // the service, operation and parameters a request names
  void Execute(const ApiRequest& request, Outcome& outcome) const;
  bool OpenJsonEnvelope(const ApiRequest& request, Envelope& envelope, Outcome& out) const;
  bool OpenQueryEnvelope(const ApiRequest& request, Envelope& envelope, Outcome& out) const;
  void Audit(const ApiRequest& request, Outcome outcome, Respond respond) const;
  ApiService* Route(std::string_view amz_target) const;
  ApiService* RouteQuery(std::string_view signing_name) const;

  PipelineOptions options_;
  const iam::Authorizer& authorizer_;
  std::vector<ApiService*> services_;
  audit::AuditLog* audit_;
  const Clock& clock_;
  sigv4::Verifier verifier_;  // accepts the signing names of every service
  // For a region other than us-east-1: accepts "iam" requests signed for us-east-1.
  std::map<std::string, std::unique_ptr<sigv4::Verifier>, std::less<>> iam_verifiers_;  // by scope region
  mutable RequestQuotas quotas_;
};

// A random request id in AWS's format (UUID v4).
std::string NewRequestId();

}  // namespace meridian::server
