// Runs both public SigV4 test suites through the Signer (canonical request, string to sign,
// signature, Authorization header, presigned query) and the Verifier (every signed request in
// the suites must verify; the same request with a tampered signature must not).
//
//   classic/  the AWS suite as shipped by mhart/aws4: <case>/<case>.{req,creq,sts,authz,sreq},
//             credentials AKIDEXAMPLE, us-east-1, service "service", time from X-Amz-Date.
//   v4/       aws-c-auth's suite: <case>/{context.json, request.txt, header-*.txt, query-*.txt}.
//
// The two suites read a folded header line differently: the classic suite (AWS's 2015 files)
// treats each continuation line as one more value of the header (joined with ','), aws-c-auth
// treats it as RFC 7230 obs-fold (replaced by a space). The request-file parser below applies
// each suite's reading; the canonicalizer is the same for both.
#include <gtest/gtest.h>
#include <rapidjson/document.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sigv4/canonical.h"
#include "sigv4/sigv4.h"

namespace meridian::sigv4 {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kAccessKey = "AKIDEXAMPLE";
constexpr std::string_view kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr std::string_view kClassicToken =
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";

fs::path SuiteRoot() {
  const char* source_dir = std::getenv("MERIDIAN_SOURCE_DIR");
  if (source_dir == nullptr) return {};
  return fs::path(source_dir) / ".." / "shared" / "testdata" / "sigv4";
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

enum class FoldStyle { kSeparateValues, kObsFold };

// A request as written in the suites' files.
struct FileRequest {
  std::string method, path, query, body;
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<Header> header_views;

  RequestView View() {
    header_views.clear();
    for (const auto& [n, v] : headers) header_views.push_back({n, v});
    RequestView view;
    view.method = method;
    view.path = path;
    view.query = query;
    view.headers = header_views;
    view.payload = body;
    return view;
  }
  std::optional<std::string> Get(std::string_view name) const {
    for (const auto& [n, v] : headers) {
      if (internal::EqualsIgnoreCase(n, name)) return v;
    }
    return std::nullopt;
  }
};

FileRequest ParseRequestFile(const std::string& text, FoldStyle fold) {
  FileRequest r;
  size_t head_end = text.find("\n\n");
  std::string head = text.substr(0, head_end);
  if (head_end != std::string::npos) r.body = text.substr(head_end + 2);
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  // The target may contain spaces ("/example space/"): method up to the first space, version
  // after the last.
  size_t first = line.find(' '), last = line.rfind(' ');
  r.method = line.substr(0, first);
  std::string target = line.substr(first + 1, last - first - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if ((line[0] == ' ' || line[0] == '\t') && !r.headers.empty()) {
      if (fold == FoldStyle::kSeparateValues) {
        r.headers.emplace_back(r.headers.back().first, line);
      } else {
        r.headers.back().second += " " + line;
      }
      continue;
    }
    size_t colon = line.find(':');
    r.headers.emplace_back(line.substr(0, colon), line.substr(colon + 1));
  }
  return r;
}

std::shared_ptr<const CredentialRecord> MakeRecord(std::optional<std::string> token) {
  auto record = std::make_shared<CredentialRecord>();
  record->access_key_id = std::string(kAccessKey);
  record->secret_access_key = crypto::SecureBytes(AsBytes(kSecret));
  record->session_token = std::move(token);
  record->account_id = "111122223333";
  record->principal_arn = "arn:aws:iam::111122223333:user/example";
  return record;
}

// Verifies `signed_request` as of `now`, then checks a tampered copy fails. Returns the number
// of checks made.
int VerifySignedRequest(FileRequest signed_request, int64_t now, const std::string& region,
                        const std::string& service, PathMode path_mode,
                        std::optional<std::string> token, bool presigned) {
  ManualClock clock(now * 1000);
  auto record = MakeRecord(token);
  VerifierOptions options;
  options.region = region;
  options.services = {service};
  options.path_mode = path_mode;
  Verifier verifier(options, [&](std::string_view id) {
    return id == kAccessKey ? record : nullptr;
  }, clock);
  Result<Caller> caller = verifier.Verify(signed_request.View());
  EXPECT_TRUE(caller.ok()) << caller.status().ToString();
  if (caller.ok()) {
    EXPECT_EQ(caller->access_key_id(), kAccessKey);
    EXPECT_EQ(caller->region, region);
    EXPECT_EQ(caller->service, service);
    EXPECT_EQ(caller->signed_at / 86400, now / 86400);
    EXPECT_EQ(caller->presigned, presigned);
    EXPECT_EQ(caller->has_session_token, token.has_value());
  }
  // Flip the last hex digit of the signature.
  if (presigned) {
    std::string& q = signed_request.query;
    q.back() = q.back() == '0' ? '1' : '0';
  } else {
    for (auto& [n, v] : signed_request.headers) {
      if (internal::EqualsIgnoreCase(n, "authorization")) v.back() = v.back() == '0' ? '1' : '0';
    }
  }
  Result<Caller> tampered = verifier.Verify(signed_request.View());
  EXPECT_FALSE(tampered.ok());
  EXPECT_EQ(tampered.status().type(), "InvalidSignatureException");
  return 2;
}

struct SuiteCount {
  int cases = 0;
  int checks = 0;
};

// ---------------------------------------------------------------------------------------------
// classic/

void RunClassicCase(const fs::path& dir, SuiteCount& count) {
  const std::string name = dir.filename().string();
  SCOPED_TRACE("classic/" + name);
  auto file = [&](const char* ext) { return ReadFile(dir / (name + ext)); };
  FileRequest request = ParseRequestFile(file(".req"), FoldStyle::kSeparateValues);
  int64_t now = 0;
  ASSERT_TRUE(internal::ParseAmzDate(request.Get("x-amz-date").value_or(""), now));

  Signer signer(Credentials::Make(kAccessKey, kSecret), "us-east-1", "service");
  Result<SignedRequest> signed_request = signer.Sign(request.View(), now);
  ASSERT_TRUE(signed_request.ok()) << signed_request.status().ToString();
  EXPECT_EQ(signed_request->canonical_request, file(".creq"));
  EXPECT_EQ(signed_request->string_to_sign, file(".sts"));
  ASSERT_FALSE(signed_request->headers_to_add.empty());
  EXPECT_EQ(signed_request->headers_to_add.back().first, "Authorization");
  EXPECT_EQ(signed_request->headers_to_add.back().second, Trim(file(".authz")));
  count.checks += 3;

  std::optional<std::string> token;
  if (dir.parent_path().filename() == "post-sts-token") token = std::string(kClassicToken);
  FileRequest sreq = ParseRequestFile(file(".sreq"), FoldStyle::kSeparateValues);
  count.checks += VerifySignedRequest(sreq, now, "us-east-1", "service", PathMode::kNormalize,
                                      token, /*presigned=*/false);
  ++count.cases;
}

TEST(SigV4Suite, Classic) {
  const fs::path root = SuiteRoot() / "classic";
  ASSERT_TRUE(fs::is_directory(root)) << "MERIDIAN_SOURCE_DIR unset or testdata missing: " << root;
  SuiteCount count;
  int discovered = 0;
  // Directories that group cases (normalize-path/, post-sts-token/) hold no case themselves.
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    const fs::path dir = entry.path();
    if (fs::exists(dir / (dir.filename().string() + ".req"))) {
      ++discovered;
      RunClassicCase(dir, count);
      continue;
    }
    bool has_subdirs = false;
    for (const auto& child : fs::directory_iterator(dir)) has_subdirs |= child.is_directory();
    EXPECT_TRUE(has_subdirs) << "classic case skipped without a reason: " << dir;
  }
  std::cout << "[ sigv4 ] classic suite: " << count.cases << " of " << discovered
            << " cases ran, " << count.checks << " checks\n";
  EXPECT_EQ(count.cases, discovered);
  EXPECT_GE(count.cases, 31);
}

// ---------------------------------------------------------------------------------------------
// v4/

struct V4Context {
  std::string access_key_id, secret, token, region, service;
  int64_t expires = 0;
  bool normalize = true, sign_body = false, omit_session_token = false;
  int64_t time = 0;
};

V4Context ParseContext(const std::string& json) {
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  V4Context c;
  const auto& creds = doc["credentials"];
  c.access_key_id = creds["access_key_id"].GetString();
  c.secret = creds["secret_access_key"].GetString();
  if (creds.HasMember("token")) c.token = creds["token"].GetString();
  c.region = doc["region"].GetString();
  c.service = doc["service"].GetString();
  c.expires = doc["expiration_in_seconds"].GetInt64();
  c.normalize = doc["normalize"].GetBool();
  c.sign_body = doc["sign_body"].GetBool();
  if (doc.HasMember("omit_session_token")) c.omit_session_token = doc["omit_session_token"].GetBool();
  std::string stamp = doc["timestamp"].GetString();  // 2015-08-30T12:36:00Z
  std::string basic;
  for (char ch : stamp) {
    if (ch != '-' && ch != ':') basic.push_back(ch);
  }
  EXPECT_TRUE(internal::ParseAmzDate(basic, c.time)) << stamp;
  return c;
}

void RunV4Case(const fs::path& dir, SuiteCount& count) {
  SCOPED_TRACE("v4/" + dir.filename().string());
  auto file = [&](const char* name) { return ReadFile(dir / name); };
  const V4Context ctx = ParseContext(file("context.json"));
  ASSERT_EQ(ctx.access_key_id, kAccessKey);
  FileRequest request = ParseRequestFile(file("request.txt"), FoldStyle::kObsFold);
  SigningOptions options;
  options.path_mode = ctx.normalize ? PathMode::kNormalize : PathMode::kNoNormalize;
  options.add_content_sha256_header = ctx.sign_body;
  options.sign_session_token = !ctx.omit_session_token;
  Signer signer(Credentials::Make(ctx.access_key_id, ctx.secret, ctx.token), ctx.region, ctx.service);
  std::optional<std::string> token;
  if (!ctx.token.empty()) token = ctx.token;

  // Header form.
  Result<SignedRequest> header = signer.Sign(request.View(), ctx.time, options);
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->canonical_request, file("header-canonical-request.txt"));
  EXPECT_EQ(header->string_to_sign, file("header-string-to-sign.txt"));
  EXPECT_EQ(header->signature, Trim(file("header-signature.txt")));
  FileRequest header_signed = ParseRequestFile(file("header-signed-request.txt"), FoldStyle::kObsFold);
  // The signed request is the original plus exactly the headers the signer says to add.
  ASSERT_EQ(header_signed.headers.size(), request.headers.size() + header->headers_to_add.size());
  for (size_t i = 0; i < header->headers_to_add.size(); ++i) {
    const auto& expected = header_signed.headers[request.headers.size() + i];
    EXPECT_TRUE(internal::EqualsIgnoreCase(expected.first, header->headers_to_add[i].first))
        << expected.first << " vs " << header->headers_to_add[i].first;
    EXPECT_EQ(expected.second, header->headers_to_add[i].second);
  }
  count.checks += 4;
  count.checks += VerifySignedRequest(header_signed, ctx.time, ctx.region, ctx.service,
                                      options.path_mode, token, /*presigned=*/false);

  // Query (presigned) form.
  Result<SignedRequest> query = signer.Presign(request.View(), ctx.time, ctx.expires, options);
  ASSERT_TRUE(query.ok()) << query.status().ToString();
  EXPECT_EQ(query->canonical_request, file("query-canonical-request.txt"));
  EXPECT_EQ(query->string_to_sign, file("query-string-to-sign.txt"));
  EXPECT_EQ(query->signature, Trim(file("query-signature.txt")));
  FileRequest query_signed = ParseRequestFile(file("query-signed-request.txt"), FoldStyle::kObsFold);
  EXPECT_EQ(query->query, query_signed.query);
  count.checks += 4;
  count.checks += VerifySignedRequest(query_signed, ctx.time, ctx.region, ctx.service,
                                      options.path_mode, token, /*presigned=*/true);
  ++count.cases;
}

TEST(SigV4Suite, AwsCAuthV4) {
  const fs::path root = SuiteRoot() / "v4";
  ASSERT_TRUE(fs::is_directory(root)) << "MERIDIAN_SOURCE_DIR unset or testdata missing: " << root;
  SuiteCount count;
  int discovered = 0;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    ++discovered;
    EXPECT_TRUE(fs::exists(entry.path() / "context.json"))
        << "v4 case skipped without a reason: " << entry.path();
    if (!fs::exists(entry.path() / "context.json")) continue;
    RunV4Case(entry.path(), count);
  }
  std::cout << "[ sigv4 ] aws-c-auth v4 suite: " << count.cases << " of " << discovered
            << " cases ran, " << count.checks << " checks\n";
  EXPECT_EQ(count.cases, discovered);
  EXPECT_GE(count.cases, 38);
}

// ---------------------------------------------------------------------------------------------
// testdata/botocore_signed.json: requests signed by botocore itself (the signer inside the aws
// cli and boto3), regenerated by testdata/make_botocore_fixtures.py. The Verifier must accept
// each one and the Signer must reproduce its signature.

TEST(SigV4Suite, BotocoreSignedRequests) {
  const char* source_dir = std::getenv("MERIDIAN_SOURCE_DIR");
  ASSERT_NE(source_dir, nullptr) << "MERIDIAN_SOURCE_DIR is not set";
  const std::string json =
      ReadFile(fs::path(source_dir) / "src" / "sigv4" / "testdata" / "botocore_signed.json");
  rapidjson::Document doc;
  doc.Parse(json.c_str());
  ASSERT_TRUE(doc.IsObject() && doc.HasMember("cases")) << "botocore_signed.json missing or invalid";
  int cases = 0;
  for (const auto& c : doc["cases"].GetArray()) {
    SCOPED_TRACE(c["name"].GetString());
    FileRequest request;
    request.method = c["method"].GetString();
    request.path = c["path"].GetString();
    request.query = c["query"].GetString();
    request.body = c["body"].GetString();
    for (const auto& h : c["headers"].GetArray()) {
      request.headers.emplace_back(h[0].GetString(), h[1].GetString());
    }
    const std::string access_key = c["access_key_id"].GetString();
    const std::string secret = c["secret_access_key"].GetString();
    const std::string token = c["session_token"].IsString() ? c["session_token"].GetString() : "";
    const std::string region = c["region"].GetString(), service = c["service"].GetString();
    const bool presigned = c["presigned"].GetBool();

    // The signing time, from X-Amz-Date (header or query).
    std::string amz_date = request.Get("x-amz-date").value_or("");
    if (presigned) {
      size_t at = request.query.find("X-Amz-Date=");
      ASSERT_NE(at, std::string::npos);
      amz_date = request.query.substr(at + 11, 16);
    }
    int64_t now = 0;
    ASSERT_TRUE(internal::ParseAmzDate(amz_date, now)) << amz_date;

    // The Verifier accepts it...
    ManualClock clock(now * 1000);
    auto record = std::make_shared<CredentialRecord>();
    record->access_key_id = access_key;
    record->secret_access_key = crypto::SecureBytes(AsBytes(secret));
    if (!token.empty()) record->session_token = token;
    VerifierOptions options;
    options.region = region;
    options.services = {service};
    Verifier verifier(options, [&](std::string_view id) {
      return id == access_key ? record : nullptr;
    }, clock);
    Result<Caller> caller = verifier.Verify(request.View());
    ASSERT_TRUE(caller.ok()) << caller.status().ToString();
    EXPECT_EQ(caller->service, service);
    EXPECT_EQ(caller->presigned, presigned);
    EXPECT_EQ(caller->has_session_token, !token.empty());
    // ...and not once anything signed changes.
    FileRequest tampered = request;
    if (presigned) {
      tampered.query.replace(tampered.query.find("Action="), 7, "Action=X");
    } else if (!tampered.body.empty()) {
      tampered.body.back() = tampered.body.back() == '}' ? ' ' : '}';
    } else {
      tampered.path += "x";
    }
    EXPECT_EQ(verifier.Verify(tampered.View()).status().type(), "InvalidSignatureException");

    // The Signer produces botocore's signature from the request as it was before signing.
    Signer signer(Credentials::Make(access_key, secret, token), region, service);
    if (presigned) {
      FileRequest unsigned_request = request;
      unsigned_request.query = request.query.substr(0, request.query.find("&X-Amz-"));
      Result<SignedRequest> s = signer.Presign(unsigned_request.View(), now, 900);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      const std::string expected = request.query.substr(request.query.find("X-Amz-Signature=") + 16);
      EXPECT_EQ(s->signature, expected);
    } else {
      FileRequest unsigned_request = request;
      unsigned_request.headers.clear();
      for (const auto& [n, v] : request.headers) {
        if (n == "Authorization") break;  // botocore adds Content-Length after signing
        unsigned_request.headers.emplace_back(n, v);
      }
      Result<SignedRequest> s = signer.Sign(unsigned_request.View(), now);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      EXPECT_EQ(s->headers_to_add.back().second, request.Get("authorization").value_or(""));
    }
    ++cases;
  }
  std::cout << "[ sigv4 ] botocore-signed requests: " << cases << " cases ran\n";
  EXPECT_GE(cases, 6);
}

}  // namespace
}  // namespace meridian::sigv4
