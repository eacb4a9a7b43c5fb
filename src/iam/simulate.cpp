#include "iam/simulate.h"

#include <algorithm>
#include <set>

#include "iam/directory_records.h"
#include "iam/errors.h"
#include "iam/policy/evaluator.h"
#include "iam/policy/statement.h"

namespace meridian::iam {
namespace {

// A policy under simulation: compiled, its text (for positions) and how results name it.
struct SimPolicy {
  policy::PolicyPtr policy;
  std::string source_type;  // PolicySourceType; empty for PolicyInputList entries (as AWS omits it)
  std::vector<StatementSpan> spans;
};

struct Simulation {
  std::vector<SimPolicy> identity;
  std::optional<SimPolicy> boundary;
  std::optional<SimPolicy> resource;
  std::shared_ptr<const policy::Principal> principal;
  std::string resource_owner;
  std::vector<std::pair<std::string, std::vector<std::string>>> context;
};

Result<SimPolicy> Compile(const std::string& document, policy::PolicyKind kind, std::string id, std::string type) {
  MERIDIAN_ASSIGN_OR_RETURN(auto compiled, CompileIamPolicy(document, kind, std::move(id)));
  return SimPolicy{std::move(compiled), std::move(type), StatementSpans(document)};
}

Status AddInputList(const QueryArgs& args, const char* member, std::vector<SimPolicy>& out) {
  MERIDIAN_ASSIGN_OR_RETURN(auto docs, args.StrList(member));
  for (size_t i = 0; i < docs.size(); ++i) {
    MERIDIAN_ASSIGN_OR_RETURN(auto p, Compile(docs[i], policy::PolicyKind::kIdentity,
                                              std::string(member) + "." + std::to_string(i + 1), ""));
    out.push_back(std::move(p));
  }
  return Status::Ok();
}

Result<std::shared_ptr<const policy::Principal>> PrincipalFromArn(const std::string& partition, const std::string& arn) {
  if (auto parsed = records::ParseIamArn(arn); parsed && parsed->type == "user") {
    auto p = policy::Principal::User(partition, parsed->account, parsed->path, parsed->name, "");
    return std::make_shared<const policy::Principal>(std::move(p));
  }
  return errors::InvalidInput("CallerArn " + arn + " is not an IAM user ARN (arn:" + partition +
                              ":iam::<account>:user/<name>).");
}

// A user-typed principal with no name, for simulations that name no caller.
std::shared_ptr<const policy::Principal> AnonymousUser(const std::string& account) {
  policy::Principal p;
  p.type = policy::PrincipalType::kUser;
  p.account = account;
  return std::make_shared<const policy::Principal>(std::move(p));
}

// The parts every simulation shares: boundary, resource policy and owner, caller, context.
Status ReadCommon(Directory& dir, const QueryArgs& args, const Caller& caller, Simulation& sim) {
  std::vector<SimPolicy> boundaries;
  MERIDIAN_RETURN_IF_ERROR(AddInputList(args, "PermissionsBoundaryPolicyInputList", boundaries));
  if (boundaries.size() > 1)
    return errors::InvalidInput("PermissionsBoundaryPolicyInputList accepts one permissions boundary policy.");
  if (!boundaries.empty()) sim.boundary = std::move(boundaries.front());
  if (auto doc = args.Opt("ResourcePolicy")) {
    MERIDIAN_ASSIGN_OR_RETURN(auto p, Compile(*doc, policy::PolicyKind::kResource, "ResourcePolicy", "resource"));
    sim.resource = std::move(p);
  }
  if (auto owner = args.Opt("ResourceOwner")) {
    // An account id, or the account's root ARN (arn:<partition>:iam::<account>:root).
    const std::string suffix = ":root";
    if (owner->size() > suffix.size() && owner->compare(owner->size() - suffix.size(), suffix.size(), suffix) == 0) {
      const size_t end = owner->size() - suffix.size();
      const size_t start = owner->rfind(':', end - 1);
      if (start != std::string::npos) sim.resource_owner = owner->substr(start + 1, end - start - 1);
    } else {
      sim.resource_owner = *owner;
    }
    if (!CredentialStore::IsValidAccountId(sim.resource_owner))
      return errors::InvalidInput("ResourceOwner must be an account id or arn:" + dir.partition() +
                                  ":iam::<account>:root.");
  }
  if (auto caller_arn = args.Opt("CallerArn")) {
    MERIDIAN_ASSIGN_OR_RETURN(sim.principal, PrincipalFromArn(dir.partition(), *caller_arn));
  }
  if (const rapidjson::Value* entries = args.Raw("ContextEntries")) {
    if (!entries->IsArray()) return BadParameter("ContextEntries", "", "Member must be a list of ContextEntry");
    for (const auto& e : entries->GetArray()) {
      if (!e.IsObject()) return BadParameter("ContextEntries", "", "Member must be a list of ContextEntry");
      QueryArgs entry(e);
      MERIDIAN_ASSIGN_OR_RETURN(std::string key, entry.Required("ContextKeyName"));
      MERIDIAN_ASSIGN_OR_RETURN(auto values, entry.StrList("ContextKeyValues"));
      sim.context.emplace_back(std::move(key), std::move(values));
    }
  }
  (void)caller;
  return Status::Ok();
}

void WritePosition(JsonWriter& w, const char* key, const TextPosition& p) {
  w.Key(key);
  w.StartObject();
  w.Key("Line");
  w.Int(p.line);
  w.Key("Column");
  w.Int(p.column);
  w.EndObject();
}

const SimPolicy* Find(const Simulation& sim, const policy::Policy* p) {
  for (const auto& s : sim.identity)
    if (s.policy.get() == p) return &s;
  if (sim.boundary && sim.boundary->policy.get() == p) return &*sim.boundary;
  if (sim.resource && sim.resource->policy.get() == p) return &*sim.resource;
  return nullptr;
}

void WriteMatched(JsonWriter& w, const Simulation& sim, const policy::Decision& d) {
  w.Key("MatchedStatements");
  w.StartArray();
  for (const auto& m : d.matched_statements()) {
    w.StartObject();
    w.Key("SourcePolicyId");
    w.String(m.policy_id());
    const SimPolicy* source = Find(sim, m.policy);
    if (source && !source->source_type.empty()) {
      w.Key("SourcePolicyType");
      w.String(source->source_type);
    }
    if (source && m.statement_index < source->spans.size()) {
      WritePosition(w, "StartPosition", source->spans[m.statement_index].start);
      WritePosition(w, "EndPosition", source->spans[m.statement_index].end);
    }
    w.EndObject();
  }
  w.EndArray();
}

// Condition keys the policies test that the context does not supply.
std::vector<std::string> MissingKeys(const Simulation& sim, const policy::RequestContext& ctx) {
  std::set<std::string> missing;
  auto scan = [&](const SimPolicy& p) {
    for (size_t i = 0; i < p.policy->statement_count(); ++i)
      for (const auto& c : p.policy->statement(i).conditions)
        if (ctx.FindLower(c.key()).empty()) missing.insert(c.key());
  };
  for (const auto& p : sim.identity) scan(p);
  if (sim.boundary) scan(*sim.boundary);
  if (sim.resource) scan(*sim.resource);
  return {missing.begin(), missing.end()};
}

Status Run(Directory& dir, const QueryArgs& args, const Caller& caller, Simulation& sim, JsonWriter& w) {
  MERIDIAN_ASSIGN_OR_RETURN(auto actions, args.StrList("ActionNames"));
  if (actions.empty()) return MissingParameter("ActionNames");
  MERIDIAN_ASSIGN_OR_RETURN(auto resources, args.StrList("ResourceArns"));
  if (resources.empty()) resources.push_back("*");
  if (!sim.principal) sim.principal = AnonymousUser(caller.account_id);
  const std::string owner = sim.resource_owner.empty() ? caller.account_id : sim.resource_owner;
  const bool cross_account = owner != sim.principal->account;

  std::vector<policy::PolicyPtr> identity;
  for (const auto& p : sim.identity) identity.push_back(p.policy);
  std::vector<policy::PolicyPtr> boundary_only;
  if (sim.boundary) boundary_only.push_back(sim.boundary->policy);

  struct Pair {
    std::string action, resource;
  };
  std::vector<Pair> pairs;
  for (const auto& a : actions)
    for (const auto& r : resources) pairs.push_back({a, r});
  MERIDIAN_ASSIGN_OR_RETURN(auto page, Paginate(args, pairs.size()));

  w.StartObject();
  w.Key("EvaluationResults");
  w.StartArray();
  for (size_t i = page.begin; i < page.end; ++i) {
    policy::RequestContext ctx(sim.principal, pairs[i].action, pairs[i].resource);
    for (const auto& [key, values] : sim.context) ctx.SetValues(key, values);
    policy::PolicySet set;
    set.identity = identity;
    set.permissions_boundary = sim.boundary ? sim.boundary->policy.get() : nullptr;
    if (sim.resource) set.resource = sim.resource->policy.get();
    set.resource_account = owner;
    policy::Decision d = policy::Evaluate(ctx, set);

    w.StartObject();
    w.Key("EvalActionName");
    w.String(pairs[i].action);
    w.Key("EvalResourceName");
    w.String(pairs[i].resource);
    w.Key("EvalDecision");
    w.String(std::string(policy::EvalDecisionName(d.decision)));
    WriteMatched(w, sim, d);
    w.Key("MissingContextValues");
    w.StartArray();
    for (const auto& k : MissingKeys(sim, ctx)) w.String(k);
    w.EndArray();
    if (sim.boundary) {
      policy::PolicySet only;
      only.identity = boundary_only;
      w.Key("PermissionsBoundaryDecisionDetail");
      w.StartObject();
      w.Key("AllowedByPermissionsBoundary");
      w.Bool(policy::Evaluate(ctx, only).allowed());
      w.EndObject();
    }
    if (cross_account && sim.resource) {
      // Both sides decide a cross-account request; say how each one voted.
      policy::PolicySet identity_side;
      identity_side.identity = identity;
      identity_side.permissions_boundary = set.permissions_boundary;
      policy::PolicySet resource_side;
      resource_side.resource = set.resource;
      resource_side.resource_account = sim.principal->account;  // judged as if same-account
      w.Key("EvalDecisionDetails");
      w.StartObject();
      w.Key("IAM Policy");
      w.String(std::string(policy::EvalDecisionName(policy::Evaluate(ctx, identity_side).decision)));
      w.Key("Resource Policy");
      policy::Decision rd = policy::Evaluate(ctx, resource_side);
      // Only a statement naming the caller counts as the resource side's allow.
      w.String(std::string(policy::EvalDecisionName(rd.decision)));
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  WritePageEnd(w, page);
  w.EndObject();
  (void)dir;
  return Status::Ok();
}

// The policies of the user, group or role `arn` names, for SimulatePrincipalPolicy.
Status LoadPrincipalPolicies(Directory& dir, const std::string& arn, Simulation& sim) {
  auto parsed = records::ParseIamArn(arn);
  if (!parsed || (parsed->type != "user" && parsed->type != "group" && parsed->type != "role"))
    return errors::InvalidInput("PolicySourceArn " + arn + " must name an IAM user, group or role.");
  const EntityKind kind = parsed->type == "user" ? EntityKind::kUser
                          : parsed->type == "group" ? EntityKind::kGroup
                                                    : EntityKind::kRole;
  MERIDIAN_ASSIGN_OR_RETURN(auto entity, dir.Get(kind, parsed->account, parsed->name));
  auto add_entity = [&](const Entity& e) -> Status {
    for (const auto& [name, doc] : e.inline_policies) {
      MERIDIAN_ASSIGN_OR_RETURN(auto p, Compile(doc, policy::PolicyKind::kIdentity, name,
                                                std::string(EntityKindName(e.kind))));
      sim.identity.push_back(std::move(p));
    }
    for (const auto& policy_arn : e.attached_policy_arns) {
      auto managed = dir.GetPolicy(policy_arn);
      if (!managed.ok()) continue;
      const PolicyVersionRecord* v = managed->DefaultVersion();
      if (!v) continue;
      MERIDIAN_ASSIGN_OR_RETURN(auto p, Compile(v->document, policy::PolicyKind::kIdentity, policy_arn,
                                                managed->account_id == "aws" ? "aws-managed" : "user-managed"));
      sim.identity.push_back(std::move(p));
    }
    return Status::Ok();
  };
  MERIDIAN_RETURN_IF_ERROR(add_entity(entity));
  if (kind == EntityKind::kUser)
    for (const auto& g : entity.group_names) {
      auto group = dir.Get(EntityKind::kGroup, parsed->account, g);
      if (group.ok()) MERIDIAN_RETURN_IF_ERROR(add_entity(*group));
    }
  if (!entity.permissions_boundary_arn.empty() && !sim.boundary) {
    auto managed = dir.GetPolicy(entity.permissions_boundary_arn);
    if (managed.ok() && managed->DefaultVersion()) {
      MERIDIAN_ASSIGN_OR_RETURN(auto p, Compile(managed->DefaultVersion()->document, policy::PolicyKind::kIdentity,
                                                entity.permissions_boundary_arn, "user-managed"));
      sim.boundary = std::move(p);
    }
  }
  if (!sim.principal) {
    if (kind == EntityKind::kUser) {
      auto p = policy::Principal::User(dir.partition(), parsed->account, entity.path, entity.name, entity.id);
      for (const auto& t : entity.tags) p.tags.emplace_back(t.key, t.value);
      sim.principal = std::make_shared<const policy::Principal>(std::move(p));
    } else if (kind == EntityKind::kRole) {
      auto p = policy::Principal::AssumedRole(dir.partition(), parsed->account, entity.path, entity.name,
                                              "SimulatePrincipalPolicy", entity.id);
      for (const auto& t : entity.tags) p.tags.emplace_back(t.key, t.value);
      sim.principal = std::make_shared<const policy::Principal>(std::move(p));
    } else {
      sim.principal = AnonymousUser(parsed->account);
    }
  }
  return Status::Ok();
}

}  // namespace

Status SimulateCustomPolicy(Directory& directory, const QueryArgs& args, const Caller& caller, JsonWriter& out) {
  if (!args.Has("PolicyInputList")) return MissingParameter("PolicyInputList");
  Simulation sim;
  MERIDIAN_RETURN_IF_ERROR(AddInputList(args, "PolicyInputList", sim.identity));
  MERIDIAN_RETURN_IF_ERROR(ReadCommon(directory, args, caller, sim));
  return Run(directory, args, caller, sim, out);
}

Status SimulatePrincipalPolicy(Directory& directory, const QueryArgs& args, const Caller& caller, JsonWriter& out) {
  MERIDIAN_ASSIGN_OR_RETURN(std::string source, args.Required("PolicySourceArn"));
  Simulation sim;
  MERIDIAN_RETURN_IF_ERROR(ReadCommon(directory, args, caller, sim));
  MERIDIAN_RETURN_IF_ERROR(LoadPrincipalPolicies(directory, source, sim));
  MERIDIAN_RETURN_IF_ERROR(AddInputList(args, "PolicyInputList", sim.identity));
  return Run(directory, args, caller, sim, out);
}

std::vector<StatementSpan> StatementSpans(std::string_view doc) {
  std::vector<StatementSpan> spans;
  // Positions of every character, computed on the fly.
  int line = 1, column = 1;
  size_t i = 0;
  auto advance = [&]() {
    if (doc[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
    ++i;
  };
  auto skip_string = [&]() {  // at '"'
    advance();
    while (i < doc.size() && doc[i] != '"') {
      if (doc[i] == '\\' && i + 1 < doc.size()) advance();
      advance();
    }
    if (i < doc.size()) advance();
  };
  // Find the top-level "Statement" key.
  int depth = 0;
  bool found = false;
  while (i < doc.size() && !found) {
    if (doc[i] == '"') {
      const size_t start = i;
      skip_string();
      if (depth == 1 && doc.substr(start, i - start) == "\"Statement\"") found = true;
      continue;
    }
    if (doc[i] == '{' || doc[i] == '[') ++depth;
    if (doc[i] == '}' || doc[i] == ']') --depth;
    advance();
  }
  if (!found) return spans;
  while (i < doc.size() && doc[i] != '{' && doc[i] != '[') advance();
  if (i >= doc.size()) return spans;
  const bool array = doc[i] == '[';
  if (array) advance();
  while (i < doc.size()) {
    while (i < doc.size() && doc[i] != '{' && doc[i] != ']') advance();
    if (i >= doc.size() || doc[i] == ']') break;
    StatementSpan span;
    span.start = {line, column};
    int d = 0;
    while (i < doc.size()) {
      if (doc[i] == '"') {
        skip_string();
        continue;
      }
      if (doc[i] == '{' || doc[i] == '[') ++d;
      if (doc[i] == '}' || doc[i] == ']') --d;
      advance();
      if (d == 0) break;
    }
    span.end = {line, column};
    spans.push_back(span);
    if (!array) break;
  }
  return spans;
}

}  // namespace meridian::iam
