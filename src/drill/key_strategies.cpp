#include "drill/key_strategies.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <thread>

#include "crypto/crypto.h"
#include "sdk/kms_arn.h"
#include "sdk/kms_keyring.h"
#include "sdk/multi_keyring.h"

namespace meridian::drill {
namespace {

using Clock = std::chrono::steady_clock;

Status DrillError(std::string message) { return Status("DrillException", std::move(message), 500); }

std::string Json(const std::vector<std::pair<std::string, std::string>>& strings,
                 const std::vector<std::pair<std::string, bool>>& bools = {}) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> w(buffer);
  w.StartObject();
  for (const auto& [key, value] : strings) {
    w.Key(key.c_str());
    w.String(value);
  }
  for (const auto& [key, value] : bools) {
    w.Key(key.c_str());
    w.Bool(value);
  }
  w.EndObject();
  return buffer.GetString();
}

// KeyMetadata.<field> (or <object>.<field>) of a KMS response body.
Result<std::string> MetadataField(const std::string& body, const char* object, const char* field) {
  rapidjson::Document doc;
  doc.Parse(body);
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember(object) || !doc[object].IsObject() ||
      !doc[object].HasMember(field) || !doc[object][field].IsString()) {
    return DrillError(std::string("KMS response lacks ") + object + "." + field);
  }
  return std::string(doc[object][field].GetString());
}

Result<std::string> CreateKey(sdk::KmsClient& client, std::string_view description, bool multi_region) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string body,
                            client.Call("CreateKey", Json({{"Description", std::string(description)}},
                                                          {{"MultiRegion", multi_region}})));
  return MetadataField(body, "KeyMetadata", "Arn");
}

Status WaitUntilEnabled(sdk::KmsClient& client, const std::string& arn, std::chrono::seconds timeout) {
  const auto deadline = Clock::now() + timeout;
  std::string last;
  for (;;) {
    auto body = client.Call("DescribeKey", Json({{"KeyId", arn}}));
    if (body.ok()) {
      auto state = MetadataField(*body, "KeyMetadata", "KeyState");
      if (state.ok() && *state == "Enabled") return Status::Ok();
      last = state.ok() ? "state " + *state : state.status().message();
    } else {
      last = body.status().ToString();
    }
    if (Clock::now() >= deadline) return DrillError("replica " + arn + " not Enabled in time (" + last + ")");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

Result<std::shared_ptr<sdk::KmsClient>> ClientFor(const std::string& region, const std::string& endpoint,
                                                  const TwoRegionKms& kms) {
  sdk::KmsClientConfig config;
  config.region = region;
  config.endpoint = endpoint;
  config.credentials.access_key_id = kms.credentials.access_key_id;
  config.credentials.secret_access_key = kms.credentials.secret_access_key.Clone();
  config.credentials.session_token = kms.credentials.session_token;
  config.http = kms.http;
  return sdk::KmsClient::Create(std::move(config));
}

Result<std::shared_ptr<const sdk::Keyring>> Strict(const std::string& arn, std::shared_ptr<sdk::KmsClient> client) {
  MERIDIAN_ASSIGN_OR_RETURN(auto keyring, sdk::AwsKmsKeyring::Create(arn, std::move(client)));
  return std::shared_ptr<const sdk::Keyring>(std::move(keyring));
}

}  // namespace

std::string_view KeyStrategyName(KeyStrategy strategy) {
  switch (strategy) {
    case KeyStrategy::kMultiRegionKey:
      return "mrk";
    case KeyStrategy::kPerRegionMultiKeyring:
      return "multi-keyring";
    case KeyStrategy::kRegionAOnlyReEncrypt:
      return "reencrypt";
  }
  return "unknown";
}

Result<KeyStrategy> ParseKeyStrategy(std::string_view text) {
  for (KeyStrategy strategy : kAllKeyStrategies) {
    if (text == KeyStrategyName(strategy) || text == std::to_string(static_cast<int>(strategy))) return strategy;
  }
  return errors::Validation("unknown key strategy '" + std::string(text) +
                            "': use mrk (1), multi-keyring (2) or reencrypt (3)");
}

Result<std::string> ArnInRegion(std::string_view key_arn, std::string_view region) {
  auto arn = sdk::ParseKmsArn(key_arn);
  if (!arn || arn->resource_type != "key") return errors::Validation("'" + std::string(key_arn) + "' is not a key ARN");
  if (region.empty()) return errors::Validation("empty region");
  return arn->WithRegion(std::string(region)).ToString();
}

Result<StrategyKeys> CreateStrategyKeys(KeyStrategy strategy, const TwoRegionKms& kms, std::string_view description,
                                        std::chrono::seconds replica_timeout) {
  MERIDIAN_ASSIGN_OR_RETURN(auto client_a, ClientFor(kms.region_a, kms.endpoint_a, kms));
  MERIDIAN_ASSIGN_OR_RETURN(auto client_b, ClientFor(kms.region_b, kms.endpoint_b, kms));
  StrategyKeys keys;
  keys.strategy = strategy;
  const std::string label = std::string(description) + " (" + std::string(KeyStrategyName(strategy)) + ")";
  if (strategy == KeyStrategy::kMultiRegionKey) {
    MERIDIAN_ASSIGN_OR_RETURN(keys.key_a_arn, CreateKey(*client_a, label, /*multi_region=*/true));
    MERIDIAN_RETURN_IF_ERROR(
        client_a->Call("ReplicateKey", Json({{"KeyId", keys.key_a_arn}, {"ReplicaRegion", kms.region_b}})).status());
    MERIDIAN_ASSIGN_OR_RETURN(keys.key_b_arn, ArnInRegion(keys.key_a_arn, kms.region_b));
    MERIDIAN_RETURN_IF_ERROR(WaitUntilEnabled(*client_b, keys.key_b_arn, replica_timeout));
  } else {
    // (2) and (3) both have one single-region key per region; they differ in how A encrypts.
    MERIDIAN_ASSIGN_OR_RETURN(keys.key_a_arn, CreateKey(*client_a, label + " region A", false));
    MERIDIAN_ASSIGN_OR_RETURN(keys.key_b_arn, CreateKey(*client_b, label + " region B", false));
  }
  auto arn = sdk::ParseKmsArn(keys.key_a_arn);
  if (!arn) return DrillError("CreateKey returned '" + keys.key_a_arn + "', not a key ARN");
  keys.account_id = arn->account;
  return keys;
}

Result<StrategyKeyrings> StrategyKeyrings::Create(const StrategyKeys& keys, const TwoRegionKms& kms) {
  auto arn_a = sdk::ParseKmsArn(keys.key_a_arn);
  if (!arn_a || !sdk::ParseKmsArn(keys.key_b_arn)) return errors::Validation("strategy keys must be key ARNs");
  StrategyKeyrings k;
  k.keys_ = keys;
  MERIDIAN_ASSIGN_OR_RETURN(k.kms_a_, ClientFor(kms.region_a, kms.endpoint_a, kms));
  MERIDIAN_ASSIGN_OR_RETURN(k.kms_b_, ClientFor(kms.region_b, kms.endpoint_b, kms));
  MERIDIAN_ASSIGN_OR_RETURN(auto strict_a, Strict(keys.key_a_arn, k.kms_a_));
  MERIDIAN_ASSIGN_OR_RETURN(auto strict_b, Strict(keys.key_b_arn, k.kms_b_));
  k.decrypt_through_a_ = strict_a;
  k.encrypt_in_b_ = strict_b;
  switch (keys.strategy) {
    case KeyStrategy::kMultiRegionKey: {
      k.encrypt_in_a_ = strict_a;
      sdk::DiscoveryFilter filter{arn_a->partition, {arn_a->account}};
      MERIDIAN_ASSIGN_OR_RETURN(auto discovery, sdk::AwsKmsDiscoveryKeyring::Create(k.kms_b_, std::move(filter)));
      k.decrypt_in_b_ = std::move(discovery);
      break;
    }
    case KeyStrategy::kPerRegionMultiKeyring: {
      MERIDIAN_ASSIGN_OR_RETURN(auto multi, sdk::MultiKeyring::Create(strict_a, {strict_b}));
      k.encrypt_in_a_ = std::move(multi);
      k.decrypt_in_b_ = strict_b;
      break;
    }
    case KeyStrategy::kRegionAOnlyReEncrypt:
      k.encrypt_in_a_ = strict_a;
      k.decrypt_in_b_ = strict_b;
      break;
  }
  return k;
}

Result<SealedRecord> ReEncryptRecordForB(const SealedRecord& sealed, std::string_view table,
                                         const StrategyKeyrings& keyrings) {
  MERIDIAN_ASSIGN_OR_RETURN(CustomerRecord record, OpenRecord(sealed, table, keyrings.DecryptThroughA()));
  auto resealed = SealRecord(record, table, keyrings.EncryptInB());
  crypto::Cleanse(record.ssn);
  crypto::Cleanse(record.card_number);
  return resealed;
}

}  // namespace meridian::drill
