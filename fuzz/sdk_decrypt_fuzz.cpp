// libFuzzer target for the SDK message parser and decryptor: decrypting arbitrary bytes must
// fail cleanly (never crash, hang, or release plaintext from a message that does not verify).
// The first input byte picks a streaming chunk size, the rest is the message. The seed corpus
// (fuzz/corpus/sdk_decrypt) holds valid messages under the key below, so mutations reach the
// body and footer parsers, not only the header.
#include <cstddef>
#include <cstdint>

#include "sdk/client.h"
#include "sdk/default_cmm.h"
#include "sdk/header.h"
#include "sdk/raw_aes_keyring.h"

namespace {

using namespace meridian;
using namespace meridian::sdk;

// Key of the seed corpus: 32 bytes of 0x42, namespace "fuzz", name "key".
std::shared_ptr<CryptoMaterialsManager> Cmm() {
  static auto cmm = [] {
    Bytes key(32, 0x42);
    auto kr = RawAesKeyring::Create("fuzz", "key", key).value();
    return std::make_shared<DefaultCmm>(kr);
  }();
  return cmm;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t chunk = static_cast<size_t>(data[0]) * 7 + 1;
  ByteView message(data + 1, size - 1);

  MessageHeader header;
  (void)ParseHeader(message, 16, header);

  DecryptOptions opt;
  opt.commitment_policy = CommitmentPolicy::kRequireEncryptAllowDecrypt;
  opt.max_encrypted_data_keys = 16;
  auto one_shot = Decrypt(Cmm(), message, opt);

  auto dec = Decryptor::Create(Cmm(), opt).value();
  Bytes out;
  Status st;
  for (size_t off = 0; st.ok() && off < message.size(); off += chunk)
    st = dec->Update(message.subspan(off, std::min(chunk, message.size() - off)), out);
  if (st.ok()) st = dec->Finish(out);
  // Both paths must agree on whether the message is valid.
  if (st.ok() != one_shot.ok()) __builtin_trap();
  if (one_shot.ok() && one_shot->plaintext != out) __builtin_trap();
  return 0;
}
