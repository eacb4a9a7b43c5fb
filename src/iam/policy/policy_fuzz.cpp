// libFuzzer target: Policy::Parse on arbitrary bytes (as each policy kind), then Evaluate and
// Lint on whatever compiles. Must never crash, hang or leak; parse errors are expected.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "iam/policy/evaluator.h"
#include "iam/policy/lint.h"

using namespace meridian::iam::policy;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  static const RequestContext* context = [] {
    auto* ctx = new RequestContext(Principal::AssumedRole("aws", "111122223333", "/", "app", "s", "AROAX"),
                                   "kms:Decrypt", "arn:aws:kms:us-east-1:111122223333:key/k");
    ctx->Set("aws:RequestedRegion", "us-east-1");
    ctx->Set("aws:SourceIp", "203.0.113.7");
    ctx->Set("aws:CurrentTime", "2025-01-01T00:00:00Z");
    ctx->SetValues("aws:TagKeys", {"a", "b"});
    return ctx;
  }();
  for (PolicyKind kind : {PolicyKind::kIdentity, PolicyKind::kResource, PolicyKind::kTrust}) {
    auto policy = Policy::Parse(text, {.kind = kind, .id = "fuzz"});
    if (!policy.ok()) continue;
    std::vector<PolicyPtr> identity;
    PolicySet set;
    if (kind == PolicyKind::kIdentity) {
      identity.push_back(*policy);
      set.identity = identity;
    } else {
      set.resource = policy->get();
      set.resource_kind = ResourcePolicyKind::kKeyPolicy;
    }
    Decision d = Evaluate(*context, set);
    (void)AccessDeniedMessage(*context, d);
    (void)Lint(**policy, {.key_policy = kind == PolicyKind::kResource});
  }
  return 0;
}
