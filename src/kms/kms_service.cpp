// KmsService: the public facade over KmsService::Impl (service_impl.h).
#include "kms/kms.h"
#include "kms/service_impl.h"

namespace meridian::kms {

KmsService::KmsService(KmsOptions options, storage::Storage& storage, const crypto::RootKey& root_key,
                       const Clock& clock)
    : impl_(std::make_unique<Impl>(std::move(options), storage, root_key, clock)) {}

KmsService::~KmsService() = default;

bool KmsService::Knows(std::string_view operation) { return Impl::Ops().count(operation) > 0; }

Status KmsService::Handle(std::string_view operation, const rapidjson::Value& request, const Caller& caller,
                          JsonWriter& out) {
  auto it = Impl::Ops().find(operation);
  if (it == Impl::Ops().end())
    return Status("UnknownOperationException", "KMS has no operation named " + std::string(operation) + ".", 400);
  JsonRequest req(request);
  return (impl_.get()->*(it->second))(req, caller, out);
}

Result<int> KmsService::RunDueMaintenance() { return impl_->RunDueMaintenance(); }

void KmsService::DropCached(std::string_view table, const std::optional<std::string>& row_key) {
  impl_->DropCached(table, row_key);
}

void KmsService::Impl::DropCached(std::string_view table, const std::optional<std::string>& row_key) {
  if (table == storage::tables::kAliases) {
    InvalidateAliases();
  } else if (table == storage::tables::kKeys || table == storage::tables::kKeyMaterial ||
             table == storage::tables::kKmsGrants) {
    // Rows are "<key id>", "<key id>/<version>" and "<key id>/<grant id>".
    if (row_key) {
      keys_.Invalidate(row_key->substr(0, row_key->find('/')));
    } else {
      keys_.InvalidateAll();
    }
  }
}

Result<std::vector<std::string>> KmsService::KeyArnsForAnalysis(const std::string& account_id) {
  const Caller owner{account_id, "arn:aws:iam::" + account_id + ":root", ""};
  std::vector<std::string> arns;
  std::string marker;
  while (true) {
    rapidjson::Document request(rapidjson::kObjectType);
    request.AddMember("Limit", 1000, request.GetAllocator());
    if (!marker.empty())
      request.AddMember("Marker", rapidjson::Value(marker.c_str(), request.GetAllocator()), request.GetAllocator());
    rapidjson::StringBuffer sb;
    JsonWriter w(sb);
    MERIDIAN_RETURN_IF_ERROR(Handle("ListKeys", request, owner, w));
    rapidjson::Document page;
    page.Parse(sb.GetString(), sb.GetSize());
    if (page.HasParseError() || !page.IsObject() || !page.HasMember("Keys") || !page["Keys"].IsArray())
      return Status("InternalFailure", "ListKeys answered with an unexpected document", 500);
    for (const auto& k : page["Keys"].GetArray())
      if (k.IsObject() && k.HasMember("KeyArn") && k["KeyArn"].IsString()) arns.emplace_back(k["KeyArn"].GetString());
    if (!page.HasMember("NextMarker") || !page["NextMarker"].IsString()) break;
    marker = page["NextMarker"].GetString();
  }
  return arns;
}

Result<KmsService::DataKey> KmsService::GenerateDataKeyFor(const Caller& caller, const std::string& key_id,
                                                           const Context& context, size_t number_of_bytes) {
  return impl_->GenerateDataKeyFor(caller, key_id, context, number_of_bytes);
}

Result<crypto::SecureBytes> KmsService::DecryptFor(const Caller& caller, ByteView ciphertext_blob,
                                                   const Context& context, std::string* key_arn) {
  return impl_->DecryptFor(caller, ciphertext_blob, context, key_arn);
}

Result<std::string> KmsService::EnsureAwsManagedKey(const Caller& caller, const std::string& alias,
                                                    const std::string& description) {
  return impl_->EnsureAwsManagedKey(caller, alias, description);
}

std::optional<KmsService::AuthorizationResource> KmsService::ResourceFor(std::string_view operation,
                                                                        const rapidjson::Value& request,
                                                                        const Caller& caller) {
  return impl_->ResourceFor(operation, request, caller);
}

void KmsService::RegisterReplicationHandlers(replication::Inbox& inbox) {
  Impl* impl = impl_.get();
  inbox.Register(
      "kms.",
      [impl](storage::Transaction& txn, std::string_view source, const replication::WireEntry& entry) {
        return impl->ApplyReplicated(txn, source, entry);
      },
      [impl](const replication::WireEntry& entry) { impl->AfterReplicatedCommit(entry); });
}

replication::Expander KmsService::ReplicationExpander() {
  Impl* impl = impl_.get();
  return [impl](const replication::Message& message) { return impl->ExpandForWire(message); };
}

}  // namespace meridian::kms
