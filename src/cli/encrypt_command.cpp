#include "cli/encrypt_command.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/encoding.h"
#include "sdk/client.h"
#include "sdk/aws_credentials.h"
#include "sdk/default_cmm.h"
#include "sdk/kms_arn.h"
#include "sdk/kms_keyring.h"
#include "sdk/multi_keyring.h"
#include "sdk/raw_aes_keyring.h"
#include "sdk/raw_rsa_keyring.h"
#include "sdk/required_ec_cmm.h"

namespace meridian::cli {
namespace {

using sdk::Keyring;

struct Options {
  std::string input = "-";
  std::string output = "-";
  std::vector<std::vector<std::string>> wrapping_keys;
  std::vector<std::string> encryption_context;
  std::vector<std::string> required_context_keys;
  std::string commitment_policy = "require-encrypt-require-decrypt";
  std::string algorithm;
  uint32_t frame_length = 4096;
  size_t max_edks = 0;
  bool decrypt_unsigned = false;
  bool buffer = true;  // --buffer: accepted for aws-encryption-cli compatibility; always on
  bool quiet = false;
};

Status Fail(std::string msg) { return Status("CliError", std::move(msg)); }

Result<Bytes> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Fail("cannot read " + path);
  return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// key=@FILE reads a file; key=base64:... / key=hex:... are inline.
Result<Bytes> KeyMaterial(const std::string& value) {
  if (value.rfind('@', 0) == 0) return ReadFileBytes(value.substr(1));
  if (value.rfind("base64:", 0) == 0) {
    auto b = Base64Decode(value.substr(7));
    if (!b) return Fail("key is not valid base64");
    return *b;
  }
  if (value.rfind("hex:", 0) == 0) {
    auto b = HexDecode(value.substr(4));
    if (!b) return Fail("key is not valid hex");
    return *b;
  }
  return Fail("key must be @FILE, base64:... or hex:...");
}

// A raw AES key file holds the raw 16/24/32 bytes, or their base64 or hex text.
Bytes NormalizeAesKey(Bytes key) {
  if (key.size() == 16 || key.size() == 24 || key.size() == 32) return key;
  std::string text(key.begin(), key.end());
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
  if (auto b = Base64Decode(text); b && (b->size() == 16 || b->size() == 24 || b->size() == 32)) return *b;
  if (auto h = HexDecode(text); h && (h->size() == 16 || h->size() == 24 || h->size() == 32)) return *h;
  return key;
}

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// provider=aws-kms key=ARN [region=R] [endpoint=URL] [profile=P]
// provider=aws-kms discovery=true region=R [discovery-partition=aws discovery-account=ID ...]
// The endpoint defaults to AWS_ENDPOINT_URL_KMS / AWS_ENDPOINT_URL, else AWS's regional endpoint.
Result<std::shared_ptr<const Keyring>> BuildKmsKeyring(std::map<std::string, std::string>& kv) {
  std::string key = kv["key"];
  std::string region = kv["region"];
  if (region.empty())
    if (auto arn = sdk::ParseKmsArn(key)) region = arn->region;
  if (region.empty()) region = EnvOr("AWS_REGION", EnvOr("AWS_DEFAULT_REGION", ""));
  if (region.empty()) return Fail("provider=aws-kms needs region= (or a key ARN, or AWS_REGION)");
  MERIDIAN_ASSIGN_OR_RETURN(auto creds, sdk::LoadAwsCredentials(kv["profile"]));
  sdk::KmsClientConfig cfg;
  cfg.region = region;
  cfg.endpoint = kv.count("endpoint") ? kv["endpoint"] : EnvOr("AWS_ENDPOINT_URL_KMS", EnvOr("AWS_ENDPOINT_URL", ""));
  cfg.credentials = std::move(creds);
  cfg.http.ca_file = EnvOr("AWS_CA_BUNDLE", "");
  MERIDIAN_ASSIGN_OR_RETURN(auto client, sdk::KmsClient::Create(std::move(cfg)));
  if (kv["discovery"] == "true") {
    std::optional<sdk::DiscoveryFilter> filter;
    if (kv.count("discovery-account")) {
      sdk::DiscoveryFilter f;
      f.partition = kv.count("discovery-partition") ? kv["discovery-partition"] : "aws";
      std::string accounts = kv["discovery-account"];
      for (size_t start = 0; start <= accounts.size();) {
        size_t comma = accounts.find(',', start);
        f.accounts.push_back(accounts.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      filter = f;
    }
    MERIDIAN_ASSIGN_OR_RETURN(auto kr, sdk::AwsKmsDiscoveryKeyring::Create(client, filter));
    return std::shared_ptr<const Keyring>(kr);
  }
  if (key.empty()) return Fail("provider=aws-kms needs key=ARN (or discovery=true)");
  MERIDIAN_ASSIGN_OR_RETURN(auto kr, sdk::AwsKmsKeyring::Create(key, client));
  return std::shared_ptr<const Keyring>(kr);
}

Result<std::shared_ptr<const Keyring>> BuildKeyring(const std::vector<std::string>& spec) {
  std::map<std::string, std::string> kv;
  for (const auto& token : spec) {
    // Repeated discovery-account=... accumulate (comma-joined).
    if (token.rfind("discovery-account=", 0) == 0 && kv.count("discovery-account")) {
      kv["discovery-account"] += "," + token.substr(18);
      continue;
    }
    auto eq = token.find('=');
    if (eq == std::string::npos || eq == 0) return Fail("--wrapping-keys expects key=value pairs, got '" + token + "'");
    kv[token.substr(0, eq)] = token.substr(eq + 1);
  }
  std::string provider = kv.count("provider") ? kv["provider"] : "";
  auto need = [&](const char* k) -> Result<std::string> {
    if (!kv.count(k) || kv[k].empty()) return Fail(std::string("--wrapping-keys provider=") + provider + " needs " + k + "=");
    return kv[k];
  };
  if (provider == "raw-aes") {
    MERIDIAN_ASSIGN_OR_RETURN(std::string ns, need("namespace"));
    MERIDIAN_ASSIGN_OR_RETURN(std::string name, need("name"));
    MERIDIAN_ASSIGN_OR_RETURN(std::string keyspec, need("key"));
    MERIDIAN_ASSIGN_OR_RETURN(Bytes key, KeyMaterial(keyspec));
    key = NormalizeAesKey(std::move(key));
    auto kr = sdk::RawAesKeyring::Create(ns, name, key);
    crypto::Cleanse(key);
    if (!kr.ok()) return Fail("raw-aes wrapping key: " + kr.status().message());
    return std::shared_ptr<const Keyring>(*kr);
  }
  if (provider == "raw-rsa") {
    MERIDIAN_ASSIGN_OR_RETURN(std::string ns, need("namespace"));
    MERIDIAN_ASSIGN_OR_RETURN(std::string name, need("name"));
    std::string padding_text = kv.count("padding") ? kv["padding"] : "oaep-sha256";
    auto padding = sdk::ParseRsaPadding(padding_text);
    if (!padding)
      return Fail("unknown RSA padding '" + padding_text + "' (pkcs1, oaep-sha1, oaep-sha256, oaep-sha384, oaep-sha512)");
    sdk::PKey pub, priv;
    for (const char* field : {"key", "private-key", "public-key"}) {
      if (!kv.count(field)) continue;
      MERIDIAN_ASSIGN_OR_RETURN(Bytes pem, KeyMaterial(kv[field]));
      if (std::string(field) != "public-key") {
        if (auto p = sdk::PKey::LoadPrivate(pem); p.ok()) {
          priv = *p;
          continue;
        }
      }
      auto p = sdk::PKey::LoadPublic(pem);
      if (!p.ok()) return Fail(std::string(field) + " is not a PEM/DER RSA key");
      pub = *p;
    }
    auto kr = sdk::RawRsaKeyring::Create(ns, name, *padding, pub, priv);
    if (!kr.ok()) return Fail("raw-rsa wrapping key: " + kr.status().message());
    return std::shared_ptr<const Keyring>(*kr);
  }
  if (provider == "aws-kms") return BuildKmsKeyring(kv);
  return Fail("--wrapping-keys needs provider=raw-aes, provider=raw-rsa or provider=aws-kms");
}

Result<sdk::EncryptionContext> ParseContext(const std::vector<std::string>& pairs) {
  sdk::EncryptionContext ec;
  for (const auto& p : pairs) {
    auto eq = p.find('=');
    if (eq == std::string::npos || eq == 0) return Fail("--encryption-context expects key=value, got '" + p + "'");
    ec[p.substr(0, eq)] = p.substr(eq + 1);
  }
  return ec;
}

Result<std::shared_ptr<sdk::CryptoMaterialsManager>> BuildCmm(const Options& o) {
  if (o.wrapping_keys.empty()) return Fail("at least one --wrapping-keys is required");
  std::vector<std::shared_ptr<const Keyring>> keyrings;
  for (const auto& spec : o.wrapping_keys) {
    MERIDIAN_ASSIGN_OR_RETURN(auto kr, BuildKeyring(spec));
    keyrings.push_back(std::move(kr));
  }
  std::shared_ptr<const Keyring> keyring = keyrings.front();
  if (keyrings.size() > 1) {
    auto generator = keyrings.front();
    keyrings.erase(keyrings.begin());
    MERIDIAN_ASSIGN_OR_RETURN(auto multi, sdk::MultiKeyring::Create(generator, keyrings));
    keyring = multi;
  }
  std::shared_ptr<sdk::CryptoMaterialsManager> cmm = std::make_shared<sdk::DefaultCmm>(keyring);
  if (!o.required_context_keys.empty())
    cmm = std::make_shared<sdk::RequiredEncryptionContextCmm>(cmm, o.required_context_keys);
  return cmm;
}

// Explains an SDK failure in the terms a CLI user acts on.
std::string Explain(const Status& st) {
  const std::string& t = st.type();
  std::string hint;
  if (t == "NoDecryptableDataKey") hint = "wrong key: none of the wrapping keys can decrypt this message";
  else if (t == "AuthenticationFailed") hint = "the message was tampered with, or the encryption context is wrong";
  else if (t == "KeyCommitmentMismatch") hint = "key commitment mismatch: the message was crafted to decrypt differently";
  else if (t == "TooManyEncryptedDataKeys") hint = "too many encrypted data keys (see --max-encrypted-data-keys)";
  else if (t == "CommitmentPolicyViolation") hint = "commitment policy violation";
  else if (t == "MalformedMessage") hint = "not a valid encrypted message (truncated or corrupted)";
  else if (t == "EncryptionContextMismatch") hint = "encryption context mismatch";
  return hint.empty() ? st.message() : hint + " (" + st.message() + ")";
}

class Progress {
 public:
  Progress(uint64_t total, bool enabled) : total_(total), enabled_(enabled && total >= (16u << 20) && isatty(2)) {}
  void Add(size_t n) {
    if (!enabled_) return;
    done_ += n;
    int pct = static_cast<int>(done_ * 100 / total_);
    if (pct == last_) return;
    last_ = pct;
    int bar = pct / 4;
    std::fprintf(stderr, "\r[%.*s%*s] %3d%%", bar, "=========================", 25 - bar, "", pct);
  }
  ~Progress() {
    if (enabled_ && last_ >= 0) std::fprintf(stderr, "\n");
  }

 private:
  uint64_t total_;
  bool enabled_;
  uint64_t done_ = 0;
  int last_ = -1;
};

struct Io {
  std::FILE* in = nullptr;
  std::FILE* out = nullptr;
  std::string out_path;
  uint64_t in_size = 0;
  ~Io() {
    if (in && in != stdin) std::fclose(in);
    if (out && out != stdout) std::fclose(out);
  }
};

Status OpenIo(const Options& o, Io& io) {
  io.in = o.input == "-" ? stdin : std::fopen(o.input.c_str(), "rb");
  if (!io.in) return Fail("cannot open input " + o.input);
  if (io.in != stdin && std::fseek(io.in, 0, SEEK_END) == 0) {
    long n = std::ftell(io.in);
    if (n > 0) io.in_size = static_cast<uint64_t>(n);
    std::fseek(io.in, 0, SEEK_SET);
  }
  io.out = o.output == "-" ? stdout : std::fopen(o.output.c_str(), "wb");
  if (!io.out) return Fail("cannot open output " + o.output);
  io.out_path = o.output == "-" ? "" : o.output;
  return Status::Ok();
}

Status WriteAll(std::FILE* f, Bytes& b) {
  if (!b.empty() && std::fwrite(b.data(), 1, b.size(), f) != b.size()) return Fail("write failed");
  crypto::Cleanse(b);
  b.clear();
  return Status::Ok();
}

Result<sdk::CommitmentPolicy> Policy(const Options& o) {
  auto p = sdk::ParseCommitmentPolicy(o.commitment_policy);
  if (!p)
    return Fail("--commitment-policy must be forbid-encrypt-allow-decrypt, require-encrypt-allow-decrypt or "
                "require-encrypt-require-decrypt");
  return *p;
}

constexpr size_t kChunk = size_t{1} << 20;

Status RunEncrypt(const Options& o) {
  MERIDIAN_ASSIGN_OR_RETURN(auto cmm, BuildCmm(o));
  sdk::EncryptOptions eo;
  MERIDIAN_ASSIGN_OR_RETURN(eo.commitment_policy, Policy(o));
  MERIDIAN_ASSIGN_OR_RETURN(eo.encryption_context, ParseContext(o.encryption_context));
  if (!o.algorithm.empty()) {
    eo.suite = sdk::ParseSuite(o.algorithm);
    if (!eo.suite) return Fail("unknown --algorithm '" + o.algorithm + "'");
  }
  if (o.frame_length == 0) return Fail("--frame-length must be at least 1");
  eo.frame_length = o.frame_length;
  eo.max_encrypted_data_keys = o.max_edks;
  Io io;
  MERIDIAN_RETURN_IF_ERROR(OpenIo(o, io));
  auto enc = sdk::Encryptor::Create(*cmm, eo);
  if (!enc.ok()) return enc.status();
  Progress progress(io.in_size, !o.quiet);
  Bytes in(kChunk), out;
  while (true) {
    size_t n = std::fread(in.data(), 1, in.size(), io.in);
    if (n == 0) break;
    MERIDIAN_RETURN_IF_ERROR((*enc)->Update(ByteView(in.data(), n), out));
    MERIDIAN_RETURN_IF_ERROR(WriteAll(io.out, out));
    progress.Add(n);
  }
  if (std::ferror(io.in)) return Fail("read failed");
  crypto::Cleanse(in);
  MERIDIAN_RETURN_IF_ERROR((*enc)->Finish(out));
  MERIDIAN_RETURN_IF_ERROR(WriteAll(io.out, out));
  if (std::fflush(io.out) != 0) return Fail("write failed");
  return Status::Ok();
}

Status RunDecrypt(const Options& o) {
  MERIDIAN_ASSIGN_OR_RETURN(auto cmm, BuildCmm(o));
  sdk::DecryptOptions dopt;
  MERIDIAN_ASSIGN_OR_RETURN(dopt.commitment_policy, Policy(o));
  MERIDIAN_ASSIGN_OR_RETURN(dopt.reproduced_encryption_context, ParseContext(o.encryption_context));
  dopt.max_encrypted_data_keys = o.max_edks;
  dopt.fail_on_signed = o.decrypt_unsigned;
  Io io;
  MERIDIAN_RETURN_IF_ERROR(OpenIo(o, io));
  auto dec = sdk::Decryptor::Create(cmm, dopt);
  if (!dec.ok()) return dec.status();
  Progress progress(io.in_size, !o.quiet);
  Bytes in(kChunk), out;
  while (true) {
    size_t n = std::fread(in.data(), 1, in.size(), io.in);
    if (n == 0) break;
    MERIDIAN_RETURN_IF_ERROR((*dec)->Update(ByteView(in.data(), n), out));
    MERIDIAN_RETURN_IF_ERROR(WriteAll(io.out, out));
    progress.Add(n);
  }
  if (std::ferror(io.in)) return Fail("read failed");
  MERIDIAN_RETURN_IF_ERROR((*dec)->Finish(out));
  MERIDIAN_RETURN_IF_ERROR(WriteAll(io.out, out));
  if (std::fflush(io.out) != 0) return Fail("write failed");
  return Status::Ok();
}

void AddCommon(CLI::App* cmd, Options& o) {
  cmd->add_option("-i,--input", o.input, "input file, or - for stdin")->required();
  cmd->add_option("-o,--output", o.output, "output file, or - for stdout")->required();
  cmd->add_option("-w,--wrapping-keys", o.wrapping_keys,
                  "provider=raw-aes namespace=NS name=NAME key=@FILE | provider=raw-rsa namespace=NS name=NAME "
                  "key=@PEM padding=oaep-sha256 (repeat for a multi-keyring)")
      ->required()
      ->allow_extra_args()
      ->expected(1, CLI::detail::expected_max_vector_size);
  cmd->add_option("-c,--encryption-context", o.encryption_context, "key=value pairs")
      ->allow_extra_args()
      ->expected(1, CLI::detail::expected_max_vector_size);
  cmd->add_option("--required-encryption-context-keys", o.required_context_keys,
                  "context keys authenticated but not stored in the message (must be given again to decrypt)")
      ->expected(1, CLI::detail::expected_max_vector_size);
  cmd->add_option("--commitment-policy", o.commitment_policy,
                  "forbid-encrypt-allow-decrypt | require-encrypt-allow-decrypt | require-encrypt-require-decrypt");
  cmd->add_option("--max-encrypted-data-keys", o.max_edks, "refuse messages with more encrypted data keys");
  cmd->add_flag("-q,--quiet", o.quiet, "no progress bar");
}

void Register(CLI::App& app, std::function<void(int)> done) {
  auto enc_opts = std::make_shared<Options>();
  auto* enc = app.add_subcommand("encrypt", "Encrypt a file or stream into an AWS Encryption SDK message");
  AddCommon(enc, *enc_opts);
  enc->add_option("--algorithm", enc_opts->algorithm, "suite id (e.g. 0x0578) or name");
  enc->add_option("--frame-length", enc_opts->frame_length, "plaintext bytes per frame (default 4096)");
  enc->callback([enc_opts, done] {
    Status st = RunEncrypt(*enc_opts);
    if (!st.ok()) {
      std::cerr << "meridian encrypt: " << Explain(st) << "\n";
      if (enc_opts->output != "-") std::remove(enc_opts->output.c_str());
    }
    done(st.ok() ? 0 : 1);
  });
  auto dec_opts = std::make_shared<Options>();
  auto* dec = app.add_subcommand("decrypt", "Decrypt an AWS Encryption SDK message");
  AddCommon(dec, *dec_opts);
  dec->add_flag("--decrypt-unsigned", dec_opts->decrypt_unsigned, "refuse messages with a signed algorithm suite");
  // aws-encryption-cli's --buffer (hold all plaintext until the signature verifies) is always on:
  // accepted so existing scripts work.
  dec->add_flag("--buffer", dec_opts->buffer, "hold plaintext until the message is verified (always on)");
  dec->callback([dec_opts, done] {
    Status st = RunDecrypt(*dec_opts);
    if (!st.ok()) {
      std::cerr << "meridian decrypt: " << Explain(st) << "\n";
      if (dec_opts->output != "-") std::remove(dec_opts->output.c_str());
    }
    done(st.ok() ? 0 : 1);
  });
}

}  // namespace

void RegisterEncryptCommands(CLI::App& app, int& exit_code) {
  Register(app, [&exit_code](int code) { exit_code = code; });
}

void RegisterEncryptCommands(CLI::App& app) {
  Register(app, [](int code) {
    if (code != 0) std::exit(code);
  });
}

}  // namespace meridian::cli
