#include "sdk/pkey.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/decoder.h>

#include <memory>
#include <string>

#include "sdk/errors.h"

namespace meridian::sdk {
namespace {

struct BioDeleter {
  void operator()(BIO* b) const { BIO_free(b); }
};

EVP_PKEY* Decode(ByteView data, int selection) {
  EVP_PKEY* pkey = nullptr;
  for (const char* format : {"PEM", "DER"}) {
    OSSL_DECODER_CTX* dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, format, nullptr, nullptr, selection, nullptr, nullptr);
    if (!dctx) continue;
    const unsigned char* p = data.data();
    size_t len = data.size();
    int ok = OSSL_DECODER_from_data(dctx, &p, &len);
    OSSL_DECODER_CTX_free(dctx);
    if (ok == 1 && pkey) return pkey;
    EVP_PKEY_free(pkey);
    pkey = nullptr;
  }
  return nullptr;
}

}  // namespace

PKey::PKey(const PKey& o) : pkey_(o.pkey_), private_(o.private_) {
  if (pkey_) EVP_PKEY_up_ref(pkey_);
}
PKey& PKey::operator=(const PKey& o) {
  if (this != &o) {
    if (o.pkey_) EVP_PKEY_up_ref(o.pkey_);
    EVP_PKEY_free(pkey_);
    pkey_ = o.pkey_;
    private_ = o.private_;
  }
  return *this;
}
PKey& PKey::operator=(PKey&& o) noexcept {
  if (this != &o) {
    EVP_PKEY_free(pkey_);
    pkey_ = o.pkey_;
    private_ = o.private_;
    o.pkey_ = nullptr;
  }
  return *this;
}
PKey::~PKey() { EVP_PKEY_free(pkey_); }

bool PKey::is_rsa() const { return pkey_ && EVP_PKEY_is_a(pkey_, "RSA"); }

Result<PKey> PKey::LoadPrivate(ByteView data) {
  EVP_PKEY* k = Decode(data, EVP_PKEY_KEYPAIR);
  if (!k) return errors::InvalidArgument("not a PEM or DER private key");
  PKey key(k);
  key.private_ = true;
  return key;
}

Result<PKey> PKey::LoadPublic(ByteView data) {
  EVP_PKEY* k = Decode(data, EVP_PKEY_PUBLIC_KEY);
  if (!k) return errors::InvalidArgument("not a PEM or DER public key");
  return PKey(k);
}

Result<std::string> PKey::PublicPem() const {
  std::unique_ptr<BIO, BioDeleter> bio(BIO_new(BIO_s_mem()));
  if (!bio || !pkey_ || PEM_write_bio_PUBKEY(bio.get(), pkey_) != 1)
    return errors::Crypto("cannot encode public key");
  char* p = nullptr;
  long n = BIO_get_mem_data(bio.get(), &p);
  return std::string(p, static_cast<size_t>(n));
}

}  // namespace meridian::sdk
