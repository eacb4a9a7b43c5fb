// Tag operations: TagResource, UntagResource, ListResourceTags.
#include <algorithm>

#include "kms/service_impl.h"

namespace meridian::kms {

Status KmsService::Impl::TagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  if (!req.Has("Tags")) return MissingMemberError("tags");
  MERIDIAN_ASSIGN_OR_RETURN(auto tags, ParseTags(req));
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    return MergeTags(r.tags, tags);
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::UntagResource(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto keys, req.OptStringList("TagKeys", 50, 128));
  if (!keys) return MissingMemberError("tagKeys");
  MERIDIAN_ASSIGN_OR_RETURN(auto arn, UpdateNamedKey(req, caller, [&](KeyRecord& r, storage::Transaction&) {
    MERIDIAN_RETURN_IF_ERROR(RequireNotPendingDeletion(r));
    std::erase_if(r.tags, [&](const auto& t) { return std::find(keys->begin(), keys->end(), t.first) != keys->end(); });
    return Status::Ok();
  }));
  (void)arn;
  w.StartObject();
  w.EndObject();
  return Status::Ok();
}

Status KmsService::Impl::ListResourceTags(const JsonRequest& req, const Caller& caller, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto key, LoadKey(req, "KeyId", false, caller));
  const auto& tags = key->record.tags;
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(req, tags.size(), 50, 50));
  w.StartObject();
  w.Key("Tags");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    w.StartObject();
    w.Key("TagKey"); w.String(tags[i].first);
    w.Key("TagValue"); w.String(tags[i].second);
    w.EndObject();
  }
  w.EndArray();
  WritePageEnd(w, page);
  w.EndObject();
  return Status::Ok();
}

}  // namespace meridian::kms
