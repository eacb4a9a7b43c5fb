#include "sdk/encryptor.h"

#include <cstring>

#include "sdk/aead.h"
#include "sdk/background_hasher.h"
#include "sdk/ecdsa.h"
#include "sdk/errors.h"
#include "sdk/message_format.h"

namespace meridian::sdk {

struct Encryptor::Impl {
  GcmContext gcm;
  std::unique_ptr<SignatureHasher> hasher;
  std::unique_ptr<BackgroundHasher> background;  // started for large inputs of signed suites

  // Grows `out` by n bytes; first waits for background hashing if the buffer would move.
  void Grow(Bytes& out, size_t n) {
    if (background && out.size() + n > out.capacity()) background->Drain();
    out.resize(out.size() + n);
  }
  void Drain() {
    if (background) background->Drain();
  }
};

Encryptor::Encryptor() : impl_(std::make_unique<Impl>()) {}
Encryptor::~Encryptor() = default;

Result<std::unique_ptr<Encryptor>> Encryptor::Create(CryptoMaterialsManager& cmm, const EncryptOptions& opt) {
  if (opt.frame_length == 0) return errors::InvalidArgument("frame length must be at least 1");
  const AlgorithmSuite* suite = opt.suite ? opt.suite : &DefaultSuite(opt.commitment_policy);
  // spec: client-apis/encrypt.md#get-the-encryption-materials
  if (!PolicyAllowsEncrypt(opt.commitment_policy, *suite))
    return errors::Policy(std::string("algorithm suite ") + suite->name + " is not allowed by commitment policy " +
                          CommitmentPolicyName(opt.commitment_policy));
  EncryptionMaterialsRequest req;
  req.encryption_context = opt.encryption_context;
  req.suite = suite;
  req.commitment_policy = opt.commitment_policy;
  req.max_plaintext_length = opt.plaintext_length_bound;
  std::unique_ptr<Encryptor> e(new Encryptor());
  MERIDIAN_ASSIGN_OR_RETURN(e->materials_, cmm.GetEncryptionMaterials(req));
  EncryptionMaterials& m = e->materials_;
  if (m.suite != suite || !PolicyAllowsEncrypt(opt.commitment_policy, *m.suite))
    return errors::Policy("CMM returned materials for a different algorithm suite");
  if (m.plaintext_data_key.size() != suite->key_length || m.edks.empty())
    return errors::Crypto("CMM returned incomplete encryption materials");
  if (suite->signed_suite() != static_cast<bool>(m.signing_key))
    return errors::Crypto("CMM signing key does not match the algorithm suite");
  if (opt.max_encrypted_data_keys > 0 && m.edks.size() > opt.max_encrypted_data_keys)
    return errors::TooManyEdks("encryption produced " + std::to_string(m.edks.size()) +
                               " encrypted data keys; the configured maximum is " +
                               std::to_string(opt.max_encrypted_data_keys));

  MessageHeader& h = e->header_;
  h.suite = suite;
  h.message_id = crypto::RandomBytes(suite->message_id_length());
  h.edks = m.edks;
  h.content_type = ContentType::kFramed;
  h.frame_length = opt.frame_length;
  // Stored context: everything except the required (authenticate-only) keys.
  EncryptionContext stored = m.encryption_context;
  for (const auto& k : m.required_ec_keys) stored.erase(k);
  h.encryption_context = stored;
  MERIDIAN_ASSIGN_OR_RETURN(Bytes stored_bytes, SerializeEncryptionContext(stored));
  MERIDIAN_ASSIGN_OR_RETURN(DerivedKeys keys, DeriveKeys(*suite, m.plaintext_data_key.view(), h.message_id));
  h.commitment = keys.commit_key;
  MERIDIAN_RETURN_IF_ERROR(SerializeHeaderBody(h, stored_bytes));

  // Header auth tag: AAD = header body || serialized authenticate-only context; IV = 0.
  // spec: client-apis/encrypt.md#construct-the-header
  MERIDIAN_ASSIGN_OR_RETURN(Bytes auth_only, SerializeEncryptionContext(FilterContext(m.encryption_context,
                                                                                      m.required_ec_keys)));
  Bytes aad = h.body;
  aad.insert(aad.end(), auth_only.begin(), auth_only.end());
  MERIDIAN_RETURN_IF_ERROR(e->impl_->gcm.InitEncrypt(keys.data_key.view()));
  std::array<uint8_t, AlgorithmSuite::kIvLength> zero_iv{};
  h.auth_tag.resize(AlgorithmSuite::kTagLength);
  MERIDIAN_RETURN_IF_ERROR(e->impl_->gcm.Seal(zero_iv, aad, {}, nullptr, h.auth_tag.data()));
  if (suite->message_version == 1) h.header_iv.assign(zero_iv.begin(), zero_iv.end());

  ByteWriter w(h.body.size() + 28);
  w.Write(h.body);
  AppendHeaderAuth(h, w);
  e->header_bytes_ = w.Take();
  if (suite->signed_suite()) e->impl_->hasher = std::make_unique<SignatureHasher>(suite->signature);
  e->bound_ = opt.plaintext_length_bound;
  e->partial_.reserve(opt.frame_length <= (1u << 20) ? opt.frame_length : 0);
  // The data key is no longer needed in the clear: the GCM context holds the derived key.
  m.plaintext_data_key.Wipe();
  return e;
}

size_t Encryptor::MaxMessageSize(uint64_t n) const {
  uint64_t fl = header_.frame_length;
  uint64_t frames = n / fl + 1;
  return header_bytes_.size() + frames * (4 + 4 + 12 + 4 + 16) + n + 2 + 128;
}

void Encryptor::Hash(const Bytes& out, size_t from) {
  ByteView added(out.data() + from, out.size() - from);
  if (impl_->background) impl_->background->Submit(added);
  else if (impl_->hasher) impl_->hasher->Update(added);
}

Status Encryptor::EmitHeaderIfPending(Bytes& out) {
  if (header_emitted_) return Status::Ok();
  size_t from = out.size();
  impl_->Grow(out, header_bytes_.size());
  std::memcpy(out.data() + from, header_bytes_.data(), header_bytes_.size());
  Hash(out, from);
  header_emitted_ = true;
  return Status::Ok();
}

// spec: data-format/message-body.md#regular-frame, #final-frame
Status Encryptor::EmitFrame(ByteView pt, bool final, Bytes& out) {
  if (sequence_ > kMaxFrameSequence) return errors::InvalidArgument("message exceeds the maximum number of frames");
  auto iv = FrameIv(sequence_);
  BodyAad aad(header_.message_id, final ? BodyAadKind::kFinalFrame : BodyAadKind::kFrame, sequence_, pt.size());
  size_t from = out.size();
  size_t prefix = final ? 4 + 4 + 12 + 4 : 4 + 12;
  impl_->Grow(out, prefix + pt.size() + AlgorithmSuite::kTagLength);
  uint8_t* p = out.data() + from;
  auto put32 = [&](uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
    p += 4;
  };
  if (final) put32(kFinalFrameMarker);
  put32(sequence_);
  std::memcpy(p, iv.data(), iv.size());
  p += iv.size();
  if (final) put32(static_cast<uint32_t>(pt.size()));
  MERIDIAN_RETURN_IF_ERROR(impl_->gcm.Seal(iv, aad.view(), pt, p, p + pt.size()));
  Hash(out, from);
  ++sequence_;
  return Status::Ok();
}

Status Encryptor::Update(ByteView pt, Bytes& out) {
  if (failed_) return errors::State("encryptor failed earlier");
  if (finished_) return errors::State("encryptor already finished");
  consumed_ += pt.size();
  if (impl_->hasher && !impl_->background && pt.size() >= BackgroundHasher::kMinParallelBytes)
    impl_->background = std::make_unique<BackgroundHasher>(*impl_->hasher);
  if (bound_ && consumed_ > *bound_) {
    failed_ = true;
    return errors::InvalidArgument("plaintext exceeds the declared length bound");
  }
  Status st = EmitHeaderIfPending(out);
  const size_t fl = header_.frame_length;
  // Regular frames are emitted only when more input follows them, so the last frame is always final.
  if (!partial_.empty()) {
    size_t take = std::min(fl - partial_.size(), pt.size());
    partial_.insert(partial_.end(), pt.begin(), pt.begin() + static_cast<std::ptrdiff_t>(take));
    pt = pt.subspan(take);
    if (partial_.size() == fl && !pt.empty()) {
      st = EmitFrame(partial_, false, out);
      partial_.clear();
    }
  }
  while (st.ok() && pt.size() > fl) {
    st = EmitFrame(pt.first(fl), false, out);
    pt = pt.subspan(fl);
  }
  if (st.ok()) partial_.insert(partial_.end(), pt.begin(), pt.end());
  impl_->Drain();  // the caller may move or reuse `out` once we return
  if (!st.ok()) failed_ = true;
  return st;
}

Status Encryptor::Finish(Bytes& out) {
  if (failed_) return errors::State("encryptor failed earlier");
  if (finished_) return errors::State("encryptor already finished");
  Status st = EmitHeaderIfPending(out);
  if (st.ok()) st = EmitFrame(partial_, true, out);
  crypto::Cleanse(partial_);
  partial_.clear();
  impl_->Drain();
  if (st.ok() && impl_->hasher) {
    // spec: data-format/message-footer.md
    Bytes digest = impl_->hasher->Final();
    auto sig = SignDigest(materials_.signing_key, digest);
    if (!sig.ok()) {
      st = sig.status();
    } else {
      ByteWriter w(2 + sig->size());
      w.WriteU16(static_cast<uint16_t>(sig->size()));
      w.Write(*sig);
      out.insert(out.end(), w.bytes().begin(), w.bytes().end());
    }
  }
  if (!st.ok()) failed_ = true;
  finished_ = true;
  return st;
}

}  // namespace meridian::sdk
