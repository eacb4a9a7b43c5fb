#include "server/replication_endpoint.h"

#include <algorithm>

#include "common/log.h"
#include "crypto/crypto.h"
#include "replication/peer_link.h"
#include "server/http_listener.h"

namespace meridian::server {

ReplicationEndpoint::ReplicationEndpoint(std::string local_region, replication::Inbox& inbox,
                                         std::vector<std::string> peer_regions, Observer observer)
    : local_region_(std::move(local_region)),
      inbox_(inbox),
      peer_regions_(std::move(peer_regions)),
      observer_(std::move(observer)) {}

ReplicationReply ReplicationEndpoint::Handle(std::string_view method, std::string_view path, std::string_view body,
                                             std::string_view certificate_region) {
  Received received;
  received.source = std::string(certificate_region);
  ReplicationReply reply = Apply(method, path, body, certificate_region, received);
  received.status = reply.status;
  if (observer_) observer_(received);
  return reply;
}

ReplicationReply ReplicationEndpoint::Apply(std::string_view method, std::string_view path, std::string_view body,
                                            std::string_view certificate_region, Received& received) {
  auto error = [&received](int status, std::string_view type, std::string_view message) {
    received.error = std::string(type) + ": " + std::string(message);
    return ReplicationReply{status, AwsJsonErrorBody(type, message)};
  };
  if (method != "POST" || path != replication::kReplicationPath)
    return error(404, "UnknownOperationException", "the peer listener serves POST /_meridian/replication/v1 only");
  if (certificate_region.empty() ||
      std::find(peer_regions_.begin(), peer_regions_.end(), certificate_region) == peer_regions_.end())
    return error(403, "AccessDeniedException",
                 "the client certificate does not name a peer region of " + local_region_);
  std::string source;
  std::vector<replication::WireEntry> entries;
  if (Status st = replication::DecodeBatch(body, source, entries); !st.ok())
    return error(400, st.type(), st.message());
  if (source != certificate_region)
    return error(403, "AccessDeniedException",
                 "a batch from " + source + " arrived with the certificate of " + std::string(certificate_region));
  if (!entries.empty()) {
    received.first_sequence = entries.front().sequence;
    received.last_sequence = entries.back().sequence;
    for (const auto& e : entries)
      if (std::find(received.kinds.begin(), received.kinds.end(), e.kind) == received.kinds.end())
        received.kinds.push_back(e.kind);
  }
  auto applied = inbox_.Apply(source, entries);
  for (auto& e : entries) crypto::Cleanse(e.payload);  // may hold key material
  if (!applied.ok()) {
    log::Error("replication_apply_failed", {{"region", local_region_}, {"source", source},
                                             {"error", applied.status().ToString()}});
    // What was applied stays applied; the sender learns how far and retries the rest.
    auto last = inbox_.LastApplied(source);
    received.applied_through = last.ok() ? *last : 0;
    received.error = applied.status().ToString();
    return ReplicationReply{200, replication::EncodeAck(received.applied_through)};
  }
  received.applied_through = *applied;
  return ReplicationReply{200, replication::EncodeAck(*applied)};
}

}  // namespace meridian::server
