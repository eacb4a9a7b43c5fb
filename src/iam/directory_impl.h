// Internal to the Directory: its in-memory caches. Not a public header.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "iam/directory.h"

namespace meridian::iam {

class Directory::Impl {
 public:
  // Everything derived from storage, dropped on every committed write. A builder reads
  // `generation` before it starts and stores its result only if no write happened meanwhile, so
  // a stale build never lands in the cache.
  std::shared_mutex mu;
  uint64_t generation = 0;                                      // guarded by mu
  std::unordered_map<std::string, IdentityPtr> identities;     // access key id -> identity
  std::unordered_map<std::string, std::shared_ptr<const Entity>> roles;  // role ARN -> role
  std::unordered_map<std::string, policy::PolicyPtr> trust_policies;    // role ARN -> compiled trust policy

  void Changed() {
    std::unique_lock lock(mu);
    ++generation;
    identities.clear();
    roles.clear();
    trust_policies.clear();
  }
  uint64_t Generation() {
    std::shared_lock lock(mu);
    return generation;
  }
};

}  // namespace meridian::iam
