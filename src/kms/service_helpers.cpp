// Helpers shared by the KMS operations (declared in service_impl.h).
#include <algorithm>
#include <cctype>
#include <cstring>

#include <rapidjson/document.h>

#include "common/encoding.h"
#include "iam/policy/policy.h"
#include "kms/service_impl.h"

namespace meridian::kms {

std::string NewKeyId() {
  return crypto::RandomUuid();
}

std::string NewMultiRegionKeyId() { return "mrk-" + HexEncode(crypto::RandomBytes(16)); }

bool LooksLikeKeyId(std::string_view s) {
  if (s.empty() || s.size() > kMaxKeyIdLength) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == '-'; }) ||
         (s.rfind("mrk-", 0) == 0 && s.size() == 36);
}

// Per-message key: HMAC-SHA256(material, "meridian-kms-v1" || nonce). Wiped by the caller.
crypto::SecureBytes DeriveMessageKey(const crypto::SecureBytes& material, ByteView nonce) {
  static constexpr std::string_view kLabel = "meridian-kms-v1";
  uint8_t input[kLabel.size() + kBlobNonceSize];
  std::memcpy(input, kLabel.data(), kLabel.size());
  std::memcpy(input + kLabel.size(), nonce.data(), kBlobNonceSize);
  auto d = crypto::HmacSha256(material.view(), ByteView(input, sizeof input));
  crypto::SecureBytes key(ByteView(d.data(), d.size()));
  crypto::Cleanse(d.data(), d.size());
  return key;
}

std::string DefaultKeyPolicy(const std::string& partition, const std::string& account) {
  return "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"key-default-1\",\n  \"Statement\" : [ {\n"
         "    \"Sid\" : \"Enable IAM User Permissions\",\n    \"Effect\" : \"Allow\",\n"
         "    \"Principal\" : {\n      \"AWS\" : \"arn:" + partition + ":iam::" + account + ":root\"\n    },\n"
         "    \"Action\" : \"kms:*\",\n    \"Resource\" : \"*\"\n  } ]\n}";
}

std::string AwsManagedKeyPolicy(const std::string& partition, const std::string& account, const std::string& region,
                                const std::string& service) {
  const std::string display = service == "secretsmanager" ? "AWS Secrets Manager" : service;
  const std::string sid = "Allow access through " + display + " for all principals in the account that are "
                          "authorized to use " + display;
  // AWS repeats the first Sid on the GenerateDataKey* statement; Meridian's policy engine wants
  // Sids unique within a policy, so the second one says what it allows.
  const std::string data_key_sid = sid + " to generate data keys";
  return "{\n  \"Version\" : \"2012-10-17\",\n  \"Id\" : \"auto-" + service + "-2\",\n  \"Statement\" : [ {\n"
         "    \"Sid\" : \"" + sid + "\",\n    \"Effect\" : \"Allow\",\n"
         "    \"Principal\" : {\n      \"AWS\" : \"*\"\n    },\n"
         "    \"Action\" : [ \"kms:Encrypt\", \"kms:Decrypt\", \"kms:ReEncrypt*\", \"kms:CreateGrant\", \"kms:DescribeKey\" ],\n"
         "    \"Resource\" : \"*\",\n    \"Condition\" : {\n      \"StringEquals\" : {\n"
         "        \"kms:CallerAccount\" : \"" + account + "\",\n"
         "        \"kms:ViaService\" : \"" + service + "." + region + ".amazonaws.com\"\n      }\n    }\n  }, {\n"
         "    \"Sid\" : \"" + data_key_sid + "\",\n    \"Effect\" : \"Allow\",\n"
         "    \"Principal\" : {\n      \"AWS\" : \"*\"\n    },\n"
         "    \"Action\" : \"kms:GenerateDataKey*\",\n"
         "    \"Resource\" : \"*\",\n    \"Condition\" : {\n      \"StringEquals\" : {\n"
         "        \"kms:CallerAccount\" : \"" + account + "\"\n      },\n"
         "      \"StringLike\" : {\n        \"kms:ViaService\" : \"" + service + ".*.amazonaws.com\"\n      }\n    }\n  }, {\n"
         "    \"Sid\" : \"Allow direct access to key metadata to the account\",\n    \"Effect\" : \"Allow\",\n"
         "    \"Principal\" : {\n      \"AWS\" : \"arn:" + partition + ":iam::" + account + ":root\"\n    },\n"
         "    \"Action\" : [ \"kms:Describe*\", \"kms:Get*\", \"kms:List*\", \"kms:RevokeGrant\" ],\n"
         "    \"Resource\" : \"*\"\n  } ]\n}";
}

// Structural validation of a key policy; the IAM engine compiles and enforces it.
Status ValidatePolicyDocument(const std::string& policy) {
  iam::policy::ParseOptions options;
  options.kind = iam::policy::PolicyKind::kResource;
  options.max_document_bytes = 32768;
  auto compiled = iam::policy::Policy::Parse(policy, options);
  if (!compiled.ok()) return err::MalformedPolicy(compiled.status().message());
  return Status::Ok();
}


Result<TagList> ParseTags(const JsonRequest& req) {
  TagList tags;
  const rapidjson::Value* v = req.Get("Tags");
  if (!v) return tags;
  if (!v->IsArray()) return SerializationError("Member Tags must be a list of {TagKey, TagValue}");
  for (const auto& t : v->GetArray()) {
    if (!t.IsObject()) return SerializationError("Member Tags must be a list of {TagKey, TagValue}");
    JsonRequest tag(t);
    MERIDIAN_ASSIGN_OR_RETURN(auto key, tag.RequiredString("TagKey", 1, 128));
    MERIDIAN_ASSIGN_OR_RETURN(auto value, tag.OptString("TagValue", 0, 256));
    if (!value) return MissingMemberError("tags.member.tagValue");
    if (key.rfind("aws:", 0) == 0) return err::Tag("Tag keys beginning with 'aws:' are reserved for AWS use.");
    tags.emplace_back(std::move(key), std::move(*value));
  }
  return tags;
}

Status MergeTags(TagList& tags, const TagList& add) {
  for (const auto& [k, v] : add) {
    auto it = std::find_if(tags.begin(), tags.end(), [&](const auto& t) { return t.first == k; });
    if (it != tags.end()) it->second = v;
    else tags.emplace_back(k, v);
  }
  if (tags.size() > kMaxTags)
    return err::Tag("A KMS key can have at most " + std::to_string(kMaxTags) + " tags.");
  std::sort(tags.begin(), tags.end());
  return Status::Ok();
}

Result<Page> Paginate(const JsonRequest& req, size_t total, int64_t max_limit, int64_t default_limit) {
  MERIDIAN_ASSIGN_OR_RETURN(auto limit, req.OptInt("Limit", 1, max_limit));
  MERIDIAN_ASSIGN_OR_RETURN(auto marker, req.OptString("Marker", 1, 1024));
  Page p;
  if (marker) {
    if (marker->empty() || marker->size() > 9 || !std::all_of(marker->begin(), marker->end(), ::isdigit))
      return err::InvalidMarker();
    p.begin = std::stoul(*marker);
    if (p.begin > total) return err::InvalidMarker();
  }
  p.end = std::min(total, p.begin + static_cast<size_t>(limit.value_or(default_limit)));
  p.truncated = p.end < total;
  return p;
}

void WritePageEnd(JsonWriter& w, const Page& p) {
  w.Key("Truncated");
  w.Bool(p.truncated);
  if (p.truncated) {
    w.Key("NextMarker");
    w.String(std::to_string(p.end));
  }
}

}  // namespace meridian::kms
