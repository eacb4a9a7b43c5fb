#include "sdk/decryptor.h"

#include <algorithm>
#include <cstring>

#include "sdk/aead.h"
#include "sdk/background_hasher.h"
#include "sdk/ecdsa.h"
#include "sdk/errors.h"
#include "sdk/message_format.h"

namespace meridian::sdk {

struct Decryptor::Impl {
  GcmContext gcm;
  DecryptionMaterials materials;
  std::unique_ptr<SignatureHasher> hasher;
  Bytes held;  // plaintext withheld until the signature verifies
  std::unique_ptr<BackgroundHasher> background;  // started for large inputs of signed suites
  bool large_input = false;

  void Hash(ByteView data) {
    if (background) background->Submit(data);
    else if (hasher) hasher->Update(data);
  }
  void MaybeStartBackground() {
    if (hasher && !background && large_input) background = std::make_unique<BackgroundHasher>(*hasher);
  }
  void Drain() {
    if (background) background->Drain();
  }
};

Decryptor::Decryptor() : impl_(std::make_unique<Impl>()) {}
Decryptor::~Decryptor() {
  if (impl_) crypto::Cleanse(impl_->held);
  crypto::Cleanse(pending_);
}

Result<std::unique_ptr<Decryptor>> Decryptor::Create(std::shared_ptr<CryptoMaterialsManager> cmm,
                                                     const DecryptOptions& options) {
  if (!cmm) return errors::InvalidArgument("decryptor needs a CMM");
  std::unique_ptr<Decryptor> d(new Decryptor());
  d->cmm_ = std::move(cmm);
  d->options_ = options;
  return d;
}

const EncryptionContext& Decryptor::encryption_context() const { return impl_->materials.encryption_context; }

Status Decryptor::Update(ByteView in, Bytes& out) {
  if (failed_) return errors::State("decryptor failed earlier");
  Status st;
  size_t consumed = 0;
  impl_->large_input = in.size() >= BackgroundHasher::kMinParallelBytes;
  impl_->MaybeStartBackground();
  if (pending_.empty()) {
    st = Consume(in, consumed, out);
    impl_->Drain();
    if (st.ok()) pending_.assign(in.begin() + static_cast<std::ptrdiff_t>(consumed), in.end());
  } else {
    pending_.insert(pending_.end(), in.begin(), in.end());
    st = Consume(pending_, consumed, out);
    impl_->Drain();
    if (st.ok()) pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
  }
  if (!st.ok()) failed_ = true;
  return st;
}

Status Decryptor::Finish(Bytes& out) {
  if (failed_) return errors::State("decryptor failed earlier");
  if (state_ == State::kHeader && !pending_.empty()) {
    // The header parse may have been deferred; try once more with everything buffered.
    header_retry_at_ = 0;
    size_t consumed = 0;
    Status st = Consume(pending_, consumed, out);
    impl_->Drain();
    if (!st.ok()) {
      failed_ = true;
      return st;
    }
    pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(consumed));
  }
  if (state_ != State::kDone) {
    failed_ = true;
    return errors::BadMessage("message is truncated (ended inside the " +
                              std::string(state_ == State::kHeader ? "header" : state_ == State::kFooter ? "footer" : "body") +
                              ")");
  }
  out.insert(out.end(), impl_->held.begin(), impl_->held.end());
  crypto::Cleanse(impl_->held);
  impl_->held.clear();
  return Status::Ok();
}

// spec: client-apis/decrypt.md#get-the-decryption-materials, #verify-the-header
Status Decryptor::OnHeader(ByteView header_bytes) {
  const AlgorithmSuite& suite = *header_.suite;
  if (!PolicyAllowsDecrypt(options_.commitment_policy, suite))
    return errors::Policy(std::string("message uses algorithm suite ") + suite.name +
                          ", which commitment policy " + CommitmentPolicyName(options_.commitment_policy) +
                          " does not allow");
  if (options_.fail_on_signed && suite.signed_suite())
    return errors::Policy("message is signed and the decryptor is configured to reject signed suites");
  DecryptMaterialsRequest req;
  req.suite = &suite;
  req.commitment_policy = options_.commitment_policy;
  req.edks = &header_.edks;
  req.encryption_context = header_.encryption_context;
  req.reproduced_encryption_context = options_.reproduced_encryption_context;
  MERIDIAN_ASSIGN_OR_RETURN(impl_->materials, cmm_->DecryptMaterials(req));
  DecryptionMaterials& m = impl_->materials;
  if (m.suite != &suite) return errors::Crypto("CMM returned materials for a different algorithm suite");
  MERIDIAN_ASSIGN_OR_RETURN(DerivedKeys keys, DeriveKeys(suite, m.plaintext_data_key.view(), header_.message_id));
  m.plaintext_data_key.Wipe();
  if (suite.committing && !crypto::ConstantTimeEquals(keys.commit_key, header_.commitment))
    return errors::CommitmentMismatch("key commitment in the header does not match the data key");
  MERIDIAN_ASSIGN_OR_RETURN(Bytes auth_only,
                            SerializeEncryptionContext(FilterContext(m.encryption_context, m.required_ec_keys)));
  Bytes aad = header_.body;
  aad.insert(aad.end(), auth_only.begin(), auth_only.end());
  MERIDIAN_RETURN_IF_ERROR(impl_->gcm.InitDecrypt(keys.data_key.view()));
  std::array<uint8_t, AlgorithmSuite::kIvLength> zero_iv{};
  ByteView iv = suite.message_version == 1 ? ByteView(header_.header_iv) : ByteView(zero_iv);
  if (!impl_->gcm.Open(iv, aad, {}, header_.auth_tag, nullptr))
    return errors::Tampered("header authentication failed (tampered header or wrong encryption context)");
  if (suite.signed_suite()) {
    impl_->hasher = std::make_unique<SignatureHasher>(suite.signature);
    impl_->hasher->Update(header_bytes);
    impl_->MaybeStartBackground();
  }
  state_ = header_.content_type == ContentType::kFramed ? State::kFrames : State::kNonFramed;
  return Status::Ok();
}

Status Decryptor::ReleaseOrHold(size_t from, bool hold, Bytes& out) {
  if (!hold) return Status::Ok();
  impl_->held.insert(impl_->held.end(), out.begin() + static_cast<std::ptrdiff_t>(from), out.end());
  crypto::Cleanse(out.data() + from, out.size() - from);
  out.resize(from);
  return Status::Ok();
}

Status Decryptor::Consume(ByteView data, size_t& consumed, Bytes& out) {
  consumed = 0;
  while (true) {
    ByteView rest = data.subspan(consumed);
    ByteReader r(rest);
    switch (state_) {
      case State::kHeader: {
        if (rest.size() < header_retry_at_) return Status::Ok();
        MERIDIAN_ASSIGN_OR_RETURN(HeaderParse hp, ParseHeader(rest, options_.max_encrypted_data_keys, header_));
        if (!hp.complete) {
          header_retry_at_ = std::max<size_t>(rest.size() + 1, rest.size() * 2);
          return Status::Ok();
        }
        MERIDIAN_RETURN_IF_ERROR(OnHeader(rest.first(hp.consumed)));
        consumed += hp.consumed;
        break;
      }
      case State::kFrames: {
        // spec: data-format/message-body.md#framed-data
        const bool is_signed = header_.suite->signed_suite();
        uint32_t marker = 0, sequence = 0, content_len = header_.frame_length;
        ByteView iv, content, tag;
        if (!r.ReadU32(marker)) return Status::Ok();
        const bool final = marker == kFinalFrameMarker;
        if (final) {
          if (!r.ReadU32(sequence)) return Status::Ok();
        } else {
          sequence = marker;
        }
        if (sequence != expected_sequence_)
          return errors::BadMessage("frame sequence number " + std::to_string(sequence) + " where " +
                                    std::to_string(expected_sequence_) + " was expected");
        if (!r.ReadView(AlgorithmSuite::kIvLength, iv)) return Status::Ok();
        auto expected_iv = FrameIv(sequence);
        if (!std::equal(iv.begin(), iv.end(), expected_iv.begin()))
          return errors::BadMessage("frame IV does not match its sequence number");
        if (final) {
          if (!r.ReadU32(content_len)) return Status::Ok();
          if (content_len > header_.frame_length)
            return errors::BadMessage("final frame is longer than the frame length");
        }
        if (!r.ReadView(content_len, content) || !r.ReadView(AlgorithmSuite::kTagLength, tag)) return Status::Ok();
        BodyAad aad(header_.message_id, final ? BodyAadKind::kFinalFrame : BodyAadKind::kFrame, sequence,
                    content_len);
        size_t from = out.size();
        out.resize(from + content_len);
        if (!impl_->gcm.Open(iv, aad.view(), content, tag, out.data() + from)) {
          out.resize(from);
          return errors::Tampered("frame " + std::to_string(sequence) + " failed authentication");
        }
        impl_->Hash(rest.first(r.position()));
        // Signed: hold everything unless streaming release was requested; the final frame is
        // always held until the signature verifies. spec: client-apis/decrypt.md#decrypt-the-message-body
        ReleaseOrHold(from, is_signed && (final || !options_.release_unverified_plaintext), out);
        consumed += r.position();
        ++expected_sequence_;
        if (final) {
          state_ = is_signed ? State::kFooter : State::kDone;
        } else if (expected_sequence_ > kMaxFrameSequence) {
          return errors::BadMessage("too many frames");
        }
        break;
      }
      case State::kNonFramed: {
        // spec: data-format/message-body.md#un-framed-data
        const bool is_signed = header_.suite->signed_suite();
        ByteView iv, content, tag;
        uint64_t content_len = 0;
        if (!r.ReadView(AlgorithmSuite::kIvLength, iv) || !r.ReadU64(content_len)) return Status::Ok();
        if (content_len > kMaxNonFramedContent) return errors::BadMessage("non-framed content is too long");
        auto expected_iv = FrameIv(1);
        if (!std::equal(iv.begin(), iv.end(), expected_iv.begin()))
          return errors::BadMessage("non-framed IV is not the sequence number 1");
        if (!r.ReadView(static_cast<size_t>(content_len), content) || !r.ReadView(AlgorithmSuite::kTagLength, tag))
          return Status::Ok();
        BodyAad aad(header_.message_id, BodyAadKind::kSingleBlock, 1, content_len);
        size_t from = out.size();
        out.resize(from + content.size());
        if (!impl_->gcm.Open(iv, aad.view(), content, tag, out.data() + from)) {
          out.resize(from);
          return errors::Tampered("message body failed authentication");
        }
        impl_->Hash(rest.first(r.position()));
        ReleaseOrHold(from, is_signed, out);
        consumed += r.position();
        state_ = is_signed ? State::kFooter : State::kDone;
        break;
      }
      case State::kFooter: {
        // spec: data-format/message-footer.md
        uint16_t sig_len = 0;
        ByteView sig;
        if (!r.ReadU16(sig_len) || !r.ReadView(sig_len, sig)) return Status::Ok();
        impl_->Drain();
        Bytes digest = impl_->hasher->Final();
        if (!VerifyDigest(impl_->materials.verification_key, digest, sig))
          return errors::Tampered("message signature does not verify");
        consumed += r.position();
        state_ = State::kDone;
        break;
      }
      case State::kDone:
        if (!rest.empty()) return errors::BadMessage("unexpected bytes after the end of the message");
        return Status::Ok();
    }
  }
}

}  // namespace meridian::sdk
