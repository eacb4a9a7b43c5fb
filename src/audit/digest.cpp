#include "audit/digest.h"

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "audit/record.h"
#include "common/aws_json.h"
#include "common/encoding.h"

namespace meridian::audit {
namespace {

constexpr std::string_view kDomain = "meridian-audit-digest-v1\n";
constexpr std::string_view kSignatureMember = ",\"signature\":\"";

Status Malformed(std::string why) { return Status("MalformedDigest", "digest file is malformed: " + why, 400); }

// The digest object without its signature member.
std::string UnsignedBody(const Digest& d) {
  rapidjson::StringBuffer sb;
  JsonWriter w(sb);
  w.StartObject();
  w.Key("digestVersion");
  w.Int(d.version);
  w.Key("awsRegion");
  w.String(d.region);
  w.Key("digestSequence");
  w.Uint64(d.digest_sequence);
  w.Key("digestTime");
  w.String(FormatEventTime(d.digest_time_ms));
  w.Key("firstEventTime");
  w.String(FormatEventTime(d.first_event_time_ms));
  w.Key("lastEventTime");
  w.String(FormatEventTime(d.last_event_time_ms));
  w.Key("firstSequence");
  w.Uint64(d.first_sequence);
  w.Key("lastSequence");
  w.Uint64(d.last_sequence);
  w.Key("chainHeadHash");
  w.String(d.chain_head_hash);
  w.Key("logFiles");
  w.StartArray();
  for (const DigestFileRange& f : d.files) {
    w.StartObject();
    w.Key("file");
    w.String(f.file);
    w.Key("firstSequence");
    w.Uint64(f.first_sequence);
    w.Key("lastSequence");
    w.Uint64(f.last_sequence);
    w.EndObject();
  }
  w.EndArray();
  w.Key("previousDigestSignature");
  if (d.previous_digest_signature.empty())
    w.Null();
  else
    w.String(d.previous_digest_signature);
  w.Key("signatureAlgorithm");
  w.String(d.signature_algorithm);
  w.Key("publicKeyFingerprint");
  w.String(d.public_key_fingerprint);
  w.EndObject();
  return std::string(sb.GetString(), sb.GetSize());
}

std::string Message(std::string_view body) {
  std::string m(kDomain);
  m.append(body);
  return m;
}

bool GetString(const rapidjson::Value& o, const char* name, std::string& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsString()) return false;
  out.assign(it->value.GetString(), it->value.GetStringLength());
  return true;
}
bool GetU64(const rapidjson::Value& o, const char* name, uint64_t& out) {
  auto it = o.FindMember(name);
  if (it == o.MemberEnd() || !it->value.IsUint64()) return false;
  out = it->value.GetUint64();
  return true;
}
bool GetTime(const rapidjson::Value& o, const char* name, int64_t& out) {
  std::string s;
  if (!GetString(o, name, s)) return false;
  auto t = ParseEventTime(s);
  if (!t.ok()) return false;
  out = *t;
  return true;
}

}  // namespace

Result<std::string> SignDigest(Digest& digest, const AuditSigningKey& key) {
  digest.public_key_fingerprint = key.public_key().Fingerprint();
  digest.signature.clear();
  const std::string body = UnsignedBody(digest);
  MERIDIAN_ASSIGN_OR_RETURN(Bytes signature, key.Sign(AsBytes(Message(body))));
  digest.signature = Base64Encode(signature);
  std::string text = body.substr(0, body.size() - 1);  // drop the closing '}'
  text.append(kSignatureMember);
  text.append(digest.signature);
  text.append("\"}\n");
  return text;
}

Result<ParsedDigest> ParseDigest(std::string_view text) {
  if (!text.empty() && text.back() == '\n') text.remove_suffix(1);
  size_t pos = text.rfind(kSignatureMember);
  if (pos == std::string_view::npos) return Malformed("no signature member");
  std::string_view sig_b64 = text.substr(pos + kSignatureMember.size());
  if (sig_b64.size() < 2 || sig_b64.substr(sig_b64.size() - 2) != "\"}") return Malformed("text after the signature");
  sig_b64.remove_suffix(2);
  auto signature = Base64Decode(sig_b64);
  if (!signature) return Malformed("the signature is not base64");

  ParsedDigest out;
  std::string body(text.substr(0, pos));
  body.push_back('}');
  out.signed_message = Message(body);
  out.signature = std::move(*signature);

  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject()) return Malformed("not a JSON object");
  Digest& d = out.digest;
  uint64_t version = 0;
  if (!GetU64(doc, "digestVersion", version) || version != 1) return Malformed("unknown digestVersion");
  d.version = 1;
  if (!GetString(doc, "awsRegion", d.region) || !GetU64(doc, "digestSequence", d.digest_sequence) ||
      !GetTime(doc, "digestTime", d.digest_time_ms) || !GetTime(doc, "firstEventTime", d.first_event_time_ms) ||
      !GetTime(doc, "lastEventTime", d.last_event_time_ms) || !GetU64(doc, "firstSequence", d.first_sequence) ||
      !GetU64(doc, "lastSequence", d.last_sequence) || !GetString(doc, "chainHeadHash", d.chain_head_hash) ||
      !GetString(doc, "signatureAlgorithm", d.signature_algorithm) ||
      !GetString(doc, "publicKeyFingerprint", d.public_key_fingerprint))
    return Malformed("a member is missing or has the wrong type");
  auto prev = doc.FindMember("previousDigestSignature");
  if (prev == doc.MemberEnd()) return Malformed("previousDigestSignature is missing");
  if (prev->value.IsString())
    d.previous_digest_signature.assign(prev->value.GetString(), prev->value.GetStringLength());
  else if (!prev->value.IsNull())
    return Malformed("previousDigestSignature has the wrong type");
  auto files = doc.FindMember("logFiles");
  if (files == doc.MemberEnd() || !files->value.IsArray()) return Malformed("logFiles is missing");
  for (const auto& f : files->value.GetArray()) {
    DigestFileRange r;
    if (!f.IsObject() || !GetString(f, "file", r.file) || !GetU64(f, "firstSequence", r.first_sequence) ||
        !GetU64(f, "lastSequence", r.last_sequence))
      return Malformed("a logFiles entry is malformed");
    d.files.push_back(std::move(r));
  }
  d.signature = std::string(sig_b64);
  return out;
}

bool VerifyDigestSignature(const ParsedDigest& digest, const AuditPublicKey& key) {
  return digest.digest.signature_algorithm == "Ed25519" &&
         key.Verify(AsBytes(digest.signed_message), digest.signature);
}

}  // namespace meridian::audit
