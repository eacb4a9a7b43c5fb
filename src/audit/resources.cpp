#include "audit/resources.h"

#include <algorithm>
#include <string>

namespace meridian::audit {
namespace {

std::string_view Member(const rapidjson::Value* obj, const char* name) {
  if (!obj || !obj->IsObject()) return {};
  auto it = obj->FindMember(name);
  if (it == obj->MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

bool IsArn(std::string_view s) { return s.substr(0, 4) == "arn:"; }

// The account field of an ARN (arn:partition:service:region:account:resource).
std::string ArnAccount(std::string_view arn) {
  size_t pos = 0;
  for (int i = 0; i < 4; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  size_t end = arn.find(':', pos);
  return end == std::string_view::npos ? std::string() : std::string(arn.substr(pos, end - pos));
}

class Collector {
 public:
  explicit Collector(const ResourceContext& c) : c_(c) {}

  void AddArn(std::string_view arn, std::string_view type) {
    if (arn.empty()) return;
    std::string a(arn);
    if (std::any_of(out_.begin(), out_.end(), [&](const ResourceRef& r) { return r.arn == a; })) return;
    out_.push_back({a, std::string(type), ArnAccount(arn)});
  }
  // A KMS key reference as a request gives it: key ARN, alias ARN, key id or alias name.
  void AddKmsReference(std::string_view ref) {
    if (ref.empty()) return;
    if (IsArn(ref)) {
      AddArn(ref, ref.find(":alias/") != std::string_view::npos ? "AWS::KMS::Alias" : kKmsKeyResourceType);
      return;
    }
    if (c_.region.empty() || c_.account_id.empty()) return;
    const std::string prefix =
        "arn:" + std::string(c_.partition) + ":kms:" + std::string(c_.region) + ":" + std::string(c_.account_id) + ":";
    if (ref.substr(0, 6) == "alias/")
      AddArn(prefix + std::string(ref), "AWS::KMS::Alias");
    else
      AddArn(prefix + "key/" + std::string(ref), kKmsKeyResourceType);
  }
  std::vector<ResourceRef> Take() { return std::move(out_); }

 private:
  const ResourceContext& c_;
  std::vector<ResourceRef> out_;
};

}  // namespace

bool IsResourceResponseMember(std::string_view event_source, std::string_view name) {
  if (event_source == kKmsEventSource)
    return name == "KeyId" || name == "KeyMetadata" || name == "KeyArn" || name == "SourceKeyId";
  if (event_source == kSecretsManagerEventSource) return name == "ARN" || name == "SecretValues";
  return false;
}

std::vector<ResourceRef> InferResources(std::string_view event_source, const ResourceContext& context,
                                        const rapidjson::Value* request, const rapidjson::Value* response) {
  Collector c(context);
  if (event_source == kKmsEventSource) {
    // What the key resolved to (the response names the key ARN) comes first.
    if (IsArn(Member(response, "KeyId"))) c.AddArn(Member(response, "KeyId"), kKmsKeyResourceType);
    if (response && response->IsObject()) {
      auto meta = response->FindMember("KeyMetadata");
      if (meta != response->MemberEnd()) c.AddArn(Member(&meta->value, "Arn"), kKmsKeyResourceType);
    }
    c.AddArn(Member(response, "KeyArn"), kKmsKeyResourceType);
    c.AddArn(Member(response, "SourceKeyId"), kKmsKeyResourceType);
    for (const char* name : {"KeyId", "SourceKeyId", "DestinationKeyId", "TargetKeyId", "AliasName"})
      c.AddKmsReference(Member(request, name));
  } else if (event_source == kSecretsManagerEventSource) {
    c.AddArn(Member(response, "ARN"), kSecretResourceType);
    // BatchGetSecretValue names each secret it returned.
    if (response && response->IsObject()) {
      auto values = response->FindMember("SecretValues");
      if (values != response->MemberEnd() && values->value.IsArray())
        for (const auto& v : values->value.GetArray()) c.AddArn(Member(&v, "ARN"), kSecretResourceType);
    }
    if (IsArn(Member(request, "SecretId"))) c.AddArn(Member(request, "SecretId"), kSecretResourceType);
  }
  return c.Take();
}

}  // namespace meridian::audit
