// ApiService: what the request pipeline needs to know about a service it routes to.
//
// Each AWS JSON 1.1 service is named by its X-Amz-Target prefix ("TrentService." for KMS,
// "secretsmanager." for Secrets Manager), signs with its SigV4 service name, and authorizes
// actions under its IAM prefix ("kms:Encrypt"). A Query-protocol service (IAM, STS) has a
// query::Dialect instead of a target prefix and is routed by the SigV4 signing name of a
// form-encoded POST. The pipeline owns no service logic.
#pragma once

#include <optional>
#include <string_view>

#include <rapidjson/document.h>

#include "common/aws_json.h"
#include "common/status.h"
#include "common/caller.h"
#include "iam/authorizer.h"
#include "server/query_protocol.h"

namespace meridian::server {

class ApiService {
 public:
  virtual ~ApiService() = default;
  virtual std::string_view target_prefix() const = 0;  // "TrentService."; "" for Query services
  virtual std::string_view signing_name() const = 0;   // SigV4 service: "kms"
  virtual std::string_view action_prefix() const = 0;  // IAM action prefix: "kms"
  virtual bool Knows(std::string_view operation) const = 0;
  // Non-null for a Query-protocol service: its XML namespace, API version and rendering rules.
  virtual const query::Dialect* query_dialect() const { return nullptr; }
  // Runs the operation (see KmsService::Handle for the contract on `out`).
  virtual Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                        JsonWriter& out) = 0;
  // The resource the request acts on and its policy, for the authorizer (none by default).
  virtual std::optional<iam::AuthorizationResource> ResourceFor(std::string_view operation,
                                                                           const rapidjson::Value& request,
                                                                           const Caller& caller) {
    (void)operation, (void)request, (void)caller;
    return std::nullopt;
  }
};

// Adapts a service class with static Knows() and a Handle() member (KmsService, SecretsService;
// IamService and StsService with their query::Dialect).
template <typename Service>
class ApiServiceAdapter final : public ApiService {
 public:
  ApiServiceAdapter(Service& service, std::string_view target_prefix, std::string_view signing_name,
                    std::string_view action_prefix, const query::Dialect* dialect = nullptr)
      : service_(service),
        target_prefix_(target_prefix),
        signing_name_(signing_name),
        action_prefix_(action_prefix),
        dialect_(dialect) {}
  std::string_view target_prefix() const override { return target_prefix_; }
  std::string_view signing_name() const override { return signing_name_; }
  std::string_view action_prefix() const override { return action_prefix_; }
  bool Knows(std::string_view operation) const override { return Service::Knows(operation); }
  const query::Dialect* query_dialect() const override { return dialect_; }
  Status Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                JsonWriter& out) override {
    return service_.Handle(operation, request, caller, out);
  }
  std::optional<iam::AuthorizationResource> ResourceFor(std::string_view operation,
                                                                   const rapidjson::Value& request,
                                                                   const Caller& caller) override {
    if constexpr (requires { service_.ResourceFor(operation, request, caller); })
      return service_.ResourceFor(operation, request, caller);
    else
      return ApiService::ResourceFor(operation, request, caller);
  }

 private:
  Service& service_;
  std::string_view target_prefix_, signing_name_, action_prefix_;
  const query::Dialect* dialect_;
};

}  // namespace meridian::server
