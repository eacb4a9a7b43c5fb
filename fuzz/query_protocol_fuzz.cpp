// Fuzzes the AWS Query protocol front (IAM, STS): arbitrary bytes as a form-encoded request body
// through the parser, and whatever it accepts through the XML renderer; the XML escaper on raw
// bytes. Must never crash, leak or hang.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rapidjson/document.h>

#include "server/query_protocol.h"

using namespace meridian::server::query;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = ParseFormBody(body);
  if (parsed.ok()) {
    std::string xml = RenderResponse(kIamDialect, parsed->action, parsed->params, "request-id");
    (void)xml;
  }
  std::string escaped;
  AppendXmlEscaped(escaped, body);
  return 0;
}
