// AWS managed policies: the curated set of `arn:<partition>:iam::aws:policy/<name>` policies that
// Meridian ships with their documents exactly as AWS publishes them (the table lives in
// aws_managed_policies.cpp, compiled in; each entry cites its source).
//
// Invariants:
//  - They exist in every account at once, are attachable to users, groups and roles and usable
//    as permissions boundaries and session policies (PolicyArns), and are never stored: the
//    Directory reads them from this table, so they cannot be modified or deleted (the Directory
//    answers AccessDenied "Cannot ... policies outside your own account.", as IAM does).
//  - Their account is "aws"; a returned ManagedPolicy holds one version, the default, and zero
//    attachment counts (the Directory fills the counts per account).
//  - PolicyId is Meridian's own stable id for the policy ("ANPA" + 17 base32 characters derived
//    from the name), not the id AWS assigns.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "iam/directory.h"

namespace meridian::iam {

// True when the ARN names a policy owned by the "aws" account (shipped or not).
bool IsAwsManagedPolicyArn(std::string_view arn);

// The shipped policy the ARN names (any partition), or nullopt.
std::optional<ManagedPolicy> FindAwsManagedPolicy(std::string_view arn);

// Every shipped policy, with ARNs in `partition`, sorted by name.
std::vector<ManagedPolicy> AwsManagedPolicies(std::string_view partition);

}  // namespace meridian::iam
