// SecretsService: the public facade over SecretsService::Impl (service_impl.h).
#include "secrets/secrets.h"

#include "secrets/secret_replication.h"
#include "secrets/service_impl.h"

namespace meridian::secrets {

SecretsService::SecretsService(SecretsOptions options, storage::Storage& storage, kms::KmsService& kms,
                               const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), storage, kms, clock)) {}

SecretsService::~SecretsService() = default;

bool SecretsService::Knows(std::string_view operation) { return Impl::Ops().count(operation) > 0; }

Status SecretsService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                              JsonWriter& out) {
  auto it = Impl::Ops().find(operation);
  if (it == Impl::Ops().end())
    return Status("UnknownOperationException",
                  "Secrets Manager has no operation named " + std::string(operation) + ".", 400);
  JsonRequest req(request);
  Status st = impl_->RefuseReplicaWrite(operation, req, caller);
  if (st.ok()) st = (impl_.get()->*(it->second))(req, caller, out);
  // Server-side failures (storage, corrupt records) reach clients as AWS's InternalServiceError.
  if (!st.ok() && st.http_status() >= 500 && st.type() != "InternalServiceError")
    return err::Internal(st.type() + ": " + st.message());
  return st;
}

Result<int> SecretsService::RunDueMaintenance() { return impl_->RunDueMaintenance(); }

void SecretsService::RegisterReplicationHandlers(replication::Inbox& inbox) {
  Impl* impl = impl_.get();
  inbox.Register(
      std::string(kReplicationKindPrefix),
      [impl](storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry) {
        return impl->ApplyReplicated(txn, source, entry);
      },
      [impl](const replication::WireEntry& entry) { impl->AfterReplicatedCommit(entry); });
}

replication::Expander SecretsService::ReplicationExpander() {
  Impl* impl = impl_.get();
  return [impl](const replication::Message& message) { return impl->ExpandForWire(message); };
}

Result<std::vector<std::string>> SecretsService::SecretArnsForAnalysis(const std::string& account_id) {
  const Caller owner{account_id, "arn:aws:iam::" + account_id + ":root", ""};
  std::vector<std::string> arns;
  std::string next_token;
  while (true) {
    rapidjson::Document request(rapidjson::kObjectType);
    request.AddMember("IncludePlannedDeletion", true, request.GetAllocator());
    request.AddMember("MaxResults", 100, request.GetAllocator());
    if (!next_token.empty())
      request.AddMember("NextToken", rapidjson::Value(next_token.c_str(), request.GetAllocator()),
                        request.GetAllocator());
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    MERIDIAN_RETURN_IF_ERROR(Handle("ListSecrets", request, owner, w));
    rapidjson::Document page;
    page.Parse(sb.GetString(), sb.GetSize());
    if (page.HasParseError() || !page.IsObject() || !page.HasMember("SecretList") || !page["SecretList"].IsArray())
      return Status("InternalFailure", "ListSecrets answered with an unexpected document", 500);
    for (const auto& e : page["SecretList"].GetArray())
      if (e.IsObject() && e.HasMember("ARN") && e["ARN"].IsString()) arns.emplace_back(e["ARN"].GetString());
    if (!page.HasMember("NextToken") || !page["NextToken"].IsString()) break;
    next_token = page["NextToken"].GetString();
  }
  return arns;
}

std::optional<iam::AuthorizationResource> SecretsService::ResourceFor(std::string_view operation,
                                                                                 const rapidjson::Value& request,
                                                                                 const Caller& caller) {
  (void)operation;
  JsonRequest req(request);
  auto id = req.OptString("SecretId", 1, kMaxSecretIdLength);
  if (!id.ok() || !*id) return std::nullopt;
  auto secret = impl_->FindNow(**id, caller);
  if (!secret.ok()) return std::nullopt;
  iam::AuthorizationResource r;
  r.arn = secret->arn;
  r.account_id = secret->account_id;
  if (!secret->resource_policy.empty()) {
    iam::policy::ParseOptions options;
    options.kind = iam::policy::PolicyKind::kResource;
    options.id = "secret-resource-policy";
    if (auto compiled = iam::policy::Policy::Parse(secret->resource_policy, options); compiled.ok()) r.policy = *compiled;
  }
  return r;
}

}  // namespace meridian::secrets
