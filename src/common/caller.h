// Caller: who is calling, as established by the server's authentication step, handed to every
// service operation. Plain data; the services never see the credential's secret.
#pragma once

#include <string>

namespace meridian {

struct Caller {
  std::string account_id;     // the account the credential belongs to
  std::string principal_arn;  // user, root, or assumed-role session ARN
  std::string access_key_id;  // the credential that signed the request
};

}  // namespace meridian
