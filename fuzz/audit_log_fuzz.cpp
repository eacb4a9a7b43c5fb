// libFuzzer target for the audit trail's readers — what `meridian audit verify` and `audit search`
// run over files an attacker may have edited: the log split into lines, each line's chain header,
// the record JSON, digest files, event times and file names. Must never crash, leak or hang, and
// a record that parses must survive serialize -> parse unchanged (the verifier depends on it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "audit/digest.h"
#include "audit/log_format.h"
#include "audit/record.h"

using namespace meridian::audit;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  SplitContents split = SplitLines(input);
  for (std::string_view line : split.lines) {
    LineHeader header;
    (void)ParseLineHeader(line, header);
    auto record = ParseRecord(line);
    if (record.ok()) {
      const std::string once = SerializeRecord(*record);
      auto again = ParseRecord(once);
      if (!again.ok() || SerializeRecord(*again) != once) std::abort();
    }
  }

  (void)ParseDigest(input);
  (void)ParseEventTime(input);
  uint32_t number = 0;
  (void)ParseLogFileName(input, number);
  (void)ParseDigestFileName(input, number);
  return 0;
}
