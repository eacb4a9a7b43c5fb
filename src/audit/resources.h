// resources[] of a record: the key or secret ARNs a call acted on, as CloudTrail lists them.
#pragma once

#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "audit/record.h"

namespace meridian::audit {

struct ResourceContext {
  std::string_view partition = "aws";
  std::string_view region;
  std::string_view account_id;
};

// The resources named by a call's request and (if it succeeded) response, without duplicates:
//   KMS: response KeyId / KeyMetadata.Arn / KeyArn (ARNs), request KeyId, SourceKeyId,
//        DestinationKeyId, TargetKeyId (an ARN, or a key id completed with `context`; aliases are
//        listed as alias ARNs, type "AWS::KMS::Alias");
//   Secrets Manager: response ARN, request SecretId when it is an ARN.
// `request` and `response` may be null.
// Whether InferResources reads the top-level response member `name` of `event_source` (the
// members listed above: KeyId, KeyMetadata, KeyArn, SourceKeyId; ARN, SecretValues).
bool IsResourceResponseMember(std::string_view event_source, std::string_view name);

std::vector<ResourceRef> InferResources(std::string_view event_source, const ResourceContext& context,
                                        const rapidjson::Value* request, const rapidjson::Value* response);

}  // namespace meridian::audit
