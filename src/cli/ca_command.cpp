#include "cli/ca_command.h"

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "server/tls/certificates.h"

namespace meridian::cli {
namespace {

struct InitArgs {
  std::string dir;
  tls::CaOptions options;
};

struct IssueArgs {
  std::string dir, out_dir;
  tls::RegionCertificateOptions options;
};

int ExitCodeFor(const Status& status) { return status.type() == "ValidationException" ? 2 : 1; }

int RunInit(const InitArgs& args) {
  auto files = tls::InitCaDirectory(args.dir, args.options);
  if (!files.ok()) {
    std::cerr << "meridian ca init: " << files.status().message() << "\n";
    return files.status().type() == "AlreadyExists" ? 1 : ExitCodeFor(files.status());
  }
  std::cout << "CA certificate (trust bundle, --ca-bundle): " << files->certificate << "\n"
            << "CA private key (keep it secret):            " << files->private_key << "\n";
  return 0;
}

int RunIssue(const IssueArgs& args) {
  const std::string out_dir = args.out_dir.empty() ? args.dir : args.out_dir;
  auto files = tls::IssueRegionCertificateFiles(args.dir, args.options, out_dir);
  if (!files.ok()) {
    std::cerr << "meridian ca issue: " << files.status().message() << "\n";
    return ExitCodeFor(files.status());
  }
  std::cout << "region " << args.options.region << " certificate: " << files->certificate << "\n"
            << "region " << args.options.region << " private key: " << files->private_key << "\n"
            << "names: CN=" << args.options.region << ", URI:meridian:region:" << args.options.region;
  for (const std::string& dns : args.options.dns_names) std::cout << ", DNS:" << dns;
  for (const std::string& ip : args.options.ip_addresses) std::cout << ", IP:" << ip;
  std::cout << "\n";
  return 0;
}

}  // namespace

void RegisterCaCommands(CLI::App& app, int& exit_code) {
  auto* ca = app.add_subcommand("ca", "The deployment CA and region certificates for TLS and mutual TLS");
  ca->require_subcommand(1);

  auto init_args = std::make_shared<InitArgs>();
  auto* init = ca->add_subcommand("init", "Create a deployment CA (EC P-256 key and self-signed certificate)");
  init->add_option("--dir", init_args->dir, "Directory for ca-cert.pem and ca-key.pem (created if missing)")->required();
  init->add_option("--name", init_args->options.common_name, "The CA's common name")->capture_default_str();
  init->add_option("--days", init_args->options.validity_days, "Validity in days")->capture_default_str();
  init->callback([init_args, &exit_code] { exit_code = RunInit(*init_args); });

  auto issue_args = std::make_shared<IssueArgs>();
  auto* issue = ca->add_subcommand("issue", "Issue a region certificate signed by the deployment CA");
  issue->add_option("--dir", issue_args->dir, "The CA directory (from `meridian ca init`)")->required();
  issue->add_option("--region", issue_args->options.region, "Region name, e.g. us-east-1")->required();
  issue->add_option("--out-dir", issue_args->out_dir, "Where to write <region>-cert.pem and <region>-key.pem (default: --dir)");
  issue->add_option("--dns", issue_args->options.dns_names, "DNS name clients use to reach the region (repeatable)");
  issue->add_option("--ip", issue_args->options.ip_addresses, "IP address clients use to reach the region (repeatable)");
  issue->add_option("--days", issue_args->options.validity_days, "Validity in days")->capture_default_str();
  issue->callback([issue_args, &exit_code] { exit_code = RunIssue(*issue_args); });
}

}  // namespace meridian::cli
