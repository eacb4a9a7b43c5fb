#include <csignal>
#include <iostream>

#include "cli/commands.h"
#include "cli/signals.h"
#include "server/region_server.h"

namespace meridian::cli {

void RegisterServerCommand(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand("server", "Run one region from a configuration file (foreground)");
  auto config_path = std::make_shared<std::string>();
  cmd->add_option("--config", *config_path, "Region configuration file (JSON)")->required();
  auto storage = std::make_shared<std::string>();
  cmd->add_option("--storage", *storage,
                  "Overrides the config's \"storage\": sqlite, sqlite:PATH, postgres://... or postgres:conninfo");
  cmd->callback([config_path, storage, &exit_code] {
    BlockTerminationSignals();
    auto config = server::RegionConfig::Load(*config_path);
    if (!config.ok()) {
      std::cerr << "meridian server: " << config.status().message() << "\n";
      exit_code = 2;
      return;
    }
    if (!storage->empty()) config->storage = *storage;
    auto region = server::RegionServer::Open(std::move(*config));
    if (!region.ok()) {
      std::cerr << "meridian server: " << region.status().message() << "\n";
      exit_code = 1;
      return;
    }
    if (Status st = (*region)->Start(); !st.ok()) {
      std::cerr << "meridian server: " << st.message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "meridian: region " << (*region)->region() << " ready on " << (*region)->EndpointUrl() << std::endl;
    int sig = WaitForTerminationSignal();
    std::cout << "meridian: region " << (*region)->region() << " stopping (signal " << sig << ")" << std::endl;
    (*region)->Stop();
  });
}

}  // namespace meridian::cli
