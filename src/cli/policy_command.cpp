// `meridian policy lint FILE [--key-policy] [--account ID] [--json]`: reports dangerous patterns
// in a policy document, each with its severity and the rule that fired (src/iam/policy/lint.h).
// Exit status: 0 no finding above LOW, 1 findings of MEDIUM or worse, 2 unreadable or malformed.
#include <fstream>
#include <iostream>
#include <sstream>

#include <rapidjson/prettywriter.h>
#include <rapidjson/stringbuffer.h>

#include "cli/commands.h"
#include "iam/policy/lint.h"

namespace meridian::cli {
namespace {

struct LintArgs {
  std::string file;
  bool key_policy = false;
  std::string account;
  bool json = false;
};

int RunLint(const LintArgs& a) {
  std::ifstream in(a.file);
  if (!in) {
    std::cerr << "meridian policy lint: cannot read " << a.file << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  iam::policy::LintOptions options;
  options.key_policy = a.key_policy;
  options.owner_account = a.account;
  auto findings = iam::policy::LintDocument(ss.str(), options);
  if (!findings.ok()) {
    std::cerr << "meridian policy lint: " << a.file << ": " << findings.status().message() << "\n";
    return 2;
  }
  bool serious = false;
  for (const auto& f : *findings) serious |= f.severity != iam::policy::Severity::kLow;
  if (a.json) {
    rapidjson::StringBuffer sb;
    rapidjson::PrettyWriter<rapidjson::StringBuffer> w(sb);
    w.StartArray();
    for (const auto& f : *findings) {
      w.StartObject();
      w.Key("rule"); w.String(f.rule.c_str());
      w.Key("severity"); w.String(std::string(iam::policy::SeverityName(f.severity)).c_str());
      w.Key("statement"); w.Int(f.statement_index);
      w.Key("message"); w.String(f.message.c_str());
      w.EndObject();
    }
    w.EndArray();
    std::cout << sb.GetString() << "\n";
  } else if (findings->empty()) {
    std::cout << a.file << ": no findings\n";
  } else {
    for (const auto& f : *findings) std::cout << iam::policy::FormatFinding(f) << "\n";
  }
  return serious ? 1 : 0;
}

}  // namespace

void RegisterPolicyCommands(CLI::App& app, int& exit_code) {
  auto* policy = app.add_subcommand("policy", "Check IAM, key and resource policies");
  policy->require_subcommand(1);
  auto args = std::make_shared<LintArgs>();
  auto* lint = policy->add_subcommand("lint", "Report dangerous patterns in a policy document");
  lint->add_option("file", args->file, "Policy document (JSON)")->required();
  lint->add_flag("--key-policy", args->key_policy, "The document is a KMS key policy");
  lint->add_option("--account", args->account, "The key's account (for the account-root rule)");
  lint->add_flag("--json", args->json, "Findings as JSON");
  lint->callback([args, &exit_code] { exit_code = RunLint(*args); });
}

}  // namespace meridian::cli
