// Global IAM: one set of principals and policies for every region of a deployment, as in AWS.
//
// Home region. One region of the deployment is IAM's home (the first region of `meridian up
// --regions`; a single region is its own home; "iam": {"home_region": ...} in the region
// config). Every IAM change (users, groups, roles, policies, attachments, access keys, MFA
// devices) is made there. Any other region answers an IAM change with UnsupportedOperation
// (HTTP 400, not retried by the SDKs) naming the home region and its endpoint, and serves IAM
// reads, authentication and authorization from its replicated copy.
//
// STS is regional. AssumeRole and GetSessionToken succeed in every region without a call to the
// home region; the session is replicated to every other region, so temporary credentials work
// everywhere once replication has delivered them (the peer links' lag, normally well under a
// second; a region that cannot be reached gets them when it returns). A session expires
// everywhere at the same instant: its expiry travels with it.
//
// Propagation. A change is enqueued on the replication outbox of every peer in the storage
// transaction that makes it, as one message "iam.<Operation>" (e.g. "iam.CreateUser",
// "iam.AssumeRole") whose payload is the after-image of every IAM row the transaction wrote:
//   {"rows": [{"table": "iam_principals", "key": "...", "value": "<stored JSON>"},
//             {"table": "access_keys", "key": "AKIA...", "value": "<stored JSON without
//              wrapped_secret>", "sealed": ["wrapped_secret"]},
//             {"table": "...", "key": "...", "deleted": true}]}
// The outbox never holds a secret, not even wrapped: the members holding wrapped secrets
// (iam/sealed_fields.h) are removed and named in "sealed". The Expander adds them at send time,
// unwrapped from this region's store ("secrets": {"wrapped_secret": "<base64 plaintext>"}),
// inside the mutual-TLS peer link, exactly as KMS ships multi-Region key material; the receiver
// wraps each under its own root key (same AAD) before it is stored. A row already gone at send
// time travels as "secrets_missing" and is not written (a later message deletes it anyway).
//
// Applying. The Inbox applies each source's messages in order, exactly once; the handler is
// idempotent besides (a message is a set of after-images: applying it twice changes nothing).
// After the commit, the CredentialStore forgets the access keys and sessions the message touched
// and the Directory drops its compiled identities, so a deleted key, a detached policy or a new
// session takes effect on the next request. Only IAM's own tables can be written this way.
//
// Regions that join later. A region added to a deployment after IAM changes were made needs the
// whole IAM state, not only the changes made after it joined: when the home region starts, every
// peer to which its outbox has never enqueued anything (a region new to the deployment) is sent
// "iam.Snapshot" messages ahead of any later change, in one transaction: the after-image of every
// row of IAM's tables (users, groups, roles, policies, access keys, MFA devices, sessions), in
// the same form and with the same handling of sealed members as a change. A snapshot is applied
// like any change (idempotent after-images), so sending one to a region that had the rows already
// changes nothing. Rows deleted before the region joined never reach it (it never had them).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "replication/replication.h"
#include "storage/storage.h"

namespace meridian::iam {

struct GlobalIamOptions {
  std::string region;         // this region
  std::string home_region;    // IAM's home; empty or equal to `region`: this region is the home
  std::string home_endpoint;  // the home region's client endpoint, for the error non-home regions give
  replication::Outbox* outbox = nullptr;  // null: no peers, nothing to propagate
  std::vector<std::string> peers;         // every other region of the deployment
  std::function<void()> replication_enqueued;  // wakes the peer links after a commit
};

// "iam." messages: the prefix RegisterReplicationHandlers and the Expander serve.
inline constexpr std::string_view kReplicationPrefix = "iam.";
inline constexpr char kSnapshotKind[] = "iam.Snapshot";

// In the home region, before requests are served: queues the IAM snapshot described above for
// every peer new to the deployment. Returns the number of snapshot messages (0: nothing to send,
// not the home region, or no new peer).
Result<int> SendSnapshotToNewPeers(storage::Storage& storage, const GlobalIamOptions& options);

}  // namespace meridian::iam
