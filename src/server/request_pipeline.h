// RequestPipeline: how one region answers an API request, independent of the transport.
//
// Data flows one way: parse the protocol envelope (AWS JSON 1.1: POST /, X-Amz-Target), verify
// SigV4, ask the authorizer, run the service operation, render the response. Every response,
// success or error, carries x-amzn-RequestId; errors are {"__type": ..., "message": ...} with
// the documented HTTP status. Nothing here throws; bad input becomes a 4xx.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <functional>

#include "audit/audit_log.h"
#include "common/clock.h"
#include "iam/authorizer.h"
#include "iam/credential_store.h"
#include "server/api_service.h"
#include "sigv4/verifier.h"

namespace meridian::server {

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
};

// Receives the response; may be called on another thread (the audit log's writer).
using Respond = std::function<void(ApiResponse)>;

class RequestPipeline {
 public:
  // All references (and the services) must outlive the pipeline. Services are routed by their
  // X-Amz-Target prefix.
  // With `audit` set, every request (allowed or denied, authenticated or not) is recorded and its
  // response is released only once the record is durable; a fail-closed log that cannot write
  // turns the response into an error (nothing is acknowledged unaudited).
  RequestPipeline(PipelineOptions options, iam::CredentialStore& credentials, const iam::Authorizer& authorizer,
                  std::vector<ApiService*> services, audit::AuditLog* audit = nullptr,
                  const Clock& clock = SystemClock::Instance());

  void Handle(const ApiRequest& request, Respond respond) const;

 private:
  struct Outcome;  // the response plus what the audit record needs
  void Execute(const ApiRequest& request, Outcome& outcome) const;
  void Audit(const ApiRequest& request, Outcome outcome, Respond respond) const;
  ApiService* Route(std::string_view amz_target) const;

  PipelineOptions options_;
  const iam::Authorizer& authorizer_;
  std::vector<ApiService*> services_;
  audit::AuditLog* audit_;
  const Clock& clock_;
  sigv4::Verifier verifier_;  // accepts the signing names of every service
};

// A random request id in AWS's format (UUID v4).
std::string NewRequestId();

}  // namespace meridian::server
