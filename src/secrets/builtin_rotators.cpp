#include "secrets/builtin_rotators.h"

#include "secrets/postgres_rotator.h"

namespace meridian::secrets {

RotatorResolver BuiltInRotators() {
  auto postgres = std::make_shared<PostgresSingleUserRotator>();
  return [postgres](const std::string& id) -> std::shared_ptr<Rotator> {
    if (IsPostgresSingleUserFunction(id)) return postgres;
    return nullptr;
  };
}

}  // namespace meridian::secrets
