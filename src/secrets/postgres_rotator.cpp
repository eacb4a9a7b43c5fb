// PostgresSingleUserRotator: AWS's RDS PostgreSQL single-user rotation, over libpq.
#include "secrets/postgres_rotator.h"

#include <libpq-fe.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include <rapidjson/document.h>
#include <rapidjson/writer.h>

#include "common/bytes.h"

namespace meridian::secrets {

namespace {

constexpr int kDefaultPort = 5432;
constexpr char kDefaultDatabase[] = "postgres";
constexpr char kApplicationName[] = "meridian-rotator";

Status RotationError(std::string message) { return {"PostgresRotationError", std::move(message), 400}; }

// A NUL-terminated copy of `bytes` in wiped memory.
crypto::SecureBytes CString(ByteView bytes) {
  crypto::SecureBytes out(bytes.size() + 1);
  if (!bytes.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());
  out.data()[bytes.size()] = 0;
  return out;
}
const char* AsCString(const crypto::SecureBytes& s) { return reinterpret_cast<const char*>(s.data()); }

// The connection fields of a PostgreSQL secret. The password is kept NUL-terminated.
struct DbCredentials {
  std::string host;
  int port = kDefaultPort;
  std::string username;
  std::string dbname = kDefaultDatabase;
  crypto::SecureBytes password;  // with a trailing NUL
  ByteView password_view() const { return password.view().first(password.size() - 1); }
};

// A rapidjson output stream writing into wiped memory.
class SecureStringStream {
 public:
  using Ch = char;
  void Put(char c) {
    if (size_ == buffer_.size()) {
      crypto::SecureBytes bigger(buffer_.size() * 2 + 256);
      if (size_ > 0) std::memcpy(bigger.data(), buffer_.data(), size_);
      buffer_ = std::move(bigger);  // the old buffer is wiped
    }
    buffer_.data()[size_++] = static_cast<uint8_t>(c);
  }
  void Flush() {}
  crypto::SecureBytes Take() { return crypto::SecureBytes(buffer_.view().first(size_)); }

 private:
  crypto::SecureBytes buffer_;
  size_t size_ = 0;
};

// The secret value parsed in place: every string of `document` points into `text`, which is
// wiped when this is destroyed.
struct ParsedSecret {
  crypto::SecureBytes text;
  rapidjson::Document document;
};

Status NotAPostgresSecret(std::string_view why) {
  return RotationError(std::string("The secret's value is not a PostgreSQL secret (") + std::string(why) +
                       "): it must be the JSON {\"engine\":\"postgres\",\"host\",\"port\",\"username\",\"password\","
                       "\"dbname\"}.");
}

Status ParseSecret(const SecretValue& value, ParsedSecret& out) {
  if (!value.is_string()) return NotAPostgresSecret("it is binary");
  out.text = CString(value.bytes.view());
  out.document.ParseInsitu(reinterpret_cast<char*>(out.text.data()));
  // Only the parse error code is reported: a message quoting the text could hold the password.
  if (out.document.HasParseError()) return NotAPostgresSecret("it is not valid JSON");
  if (!out.document.IsObject()) return NotAPostgresSecret("it is not a JSON object");
  return Status::Ok();
}

Result<std::string> OptionalString(const rapidjson::Value& object, const char* name, bool required) {
  auto it = object.FindMember(name);
  if (it == object.MemberEnd() || it->value.IsNull()) {
    if (required) return NotAPostgresSecret(std::string("no \"") + name + "\"");
    return std::string();
  }
  if (!it->value.IsString()) return NotAPostgresSecret(std::string("\"") + name + "\" is not a string");
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

Result<DbCredentials> CredentialsOf(const rapidjson::Document& doc) {
  DbCredentials c;
  MERIDIAN_ASSIGN_OR_RETURN(auto engine, OptionalString(doc, "engine", /*required=*/true));
  if (engine != "postgres") return NotAPostgresSecret("\"engine\" must be \"postgres\"");
  MERIDIAN_ASSIGN_OR_RETURN(c.host, OptionalString(doc, "host", true));
  MERIDIAN_ASSIGN_OR_RETURN(c.username, OptionalString(doc, "username", true));
  MERIDIAN_ASSIGN_OR_RETURN(auto dbname, OptionalString(doc, "dbname", false));
  if (!dbname.empty()) c.dbname = std::move(dbname);
  if (c.host.empty() || c.username.empty()) return NotAPostgresSecret("empty \"host\" or \"username\"");
  auto port = doc.FindMember("port");
  if (port != doc.MemberEnd() && !port->value.IsNull()) {
    if (port->value.IsInt()) {
      c.port = port->value.GetInt();
    } else if (port->value.IsString()) {  // AWS's template accepts "5432" too (int(port))
      const std::string text(port->value.GetString(), port->value.GetStringLength());
      char* end = nullptr;
      const long parsed = std::strtol(text.c_str(), &end, 10);
      c.port = (!text.empty() && *end == '\0') ? static_cast<int>(parsed) : 0;
    } else {
      c.port = 0;
    }
    if (c.port < 1 || c.port > 65535) return NotAPostgresSecret("\"port\" is not a port number");
  }
  auto password = doc.FindMember("password");
  if (password == doc.MemberEnd() || !password->value.IsString()) return NotAPostgresSecret("no string \"password\"");
  c.password = CString(ByteView(reinterpret_cast<const uint8_t*>(password->value.GetString()),
                                password->value.GetStringLength()));
  return c;
}

Result<DbCredentials> ParseCredentials(const SecretValue& value) {
  ParsedSecret parsed;
  MERIDIAN_RETURN_IF_ERROR(ParseSecret(value, parsed));
  return CredentialsOf(parsed.document);
}

// The credentials in the version labelled `stage`.
Result<DbCredentials> ReadCredentials(RotationContext& ctx, std::string_view stage) {
  MERIDIAN_ASSIGN_OR_RETURN(auto value, ctx.GetValue(stage));
  auto credentials = ParseCredentials(value);
  if (!credentials.ok())
    return RotationError(std::string(stage) + ": " + credentials.status().message());
  return credentials;
}

// `current` with its password replaced by `password`; every other member kept.
Result<SecretValue> WithPassword(const SecretValue& current, ByteView password) {
  ParsedSecret parsed;
  MERIDIAN_RETURN_IF_ERROR(ParseSecret(current, parsed));
  rapidjson::Document& doc = parsed.document;
  const auto password_ref = rapidjson::StringRef(reinterpret_cast<const char*>(password.data()), password.size());
  if (auto it = doc.FindMember("password"); it != doc.MemberEnd()) {
    it->value.SetString(password_ref);
  } else {
    doc.AddMember("password", rapidjson::Value(password_ref), doc.GetAllocator());
  }
  SecureStringStream out;
  rapidjson::Writer<SecureStringStream> writer(out);
  if (!doc.Accept(writer)) return RotationError("could not write the pending secret's JSON");
  crypto::SecureBytes json = out.Take();
  return SecretValue::String(json.view());
}

// `message` with every occurrence of `secret` replaced (server messages must not leak it).
std::string Redacted(std::string message, ByteView secret) {
  const std::string_view needle = AsString(secret);
  if (!needle.empty()) {
    constexpr std::string_view kMark = "<redacted>";
    for (size_t at = message.find(needle); at != std::string::npos; at = message.find(needle, at + kMark.size()))
      message.replace(at, needle.size(), kMark);
  }
  while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) message.pop_back();
  return message;
}

// One libpq connection, closed on destruction.
class Connection {
 public:
  Connection() = default;
  explicit Connection(PGconn* conn) : conn_(conn) {}
  Connection(Connection&& other) noexcept : conn_(std::exchange(other.conn_, nullptr)) {}
  Connection& operator=(Connection&& other) noexcept {
    if (this != &other) {
      Close();
      conn_ = std::exchange(other.conn_, nullptr);
    }
    return *this;
  }
  ~Connection() { Close(); }
  PGconn* get() const { return conn_; }
  explicit operator bool() const { return conn_ != nullptr; }

 private:
  void Close() {
    if (conn_ != nullptr) PQfinish(conn_);
    conn_ = nullptr;
  }
  PGconn* conn_ = nullptr;
};

// Logs in as `c`. Keyword/value parameters (expand_dbname off): no field is parsed as conninfo.
Result<Connection> Connect(const DbCredentials& c, int timeout_seconds) {
  const std::string port = std::to_string(c.port);
  const std::string timeout = std::to_string(timeout_seconds);
  const char* keys[] = {"host",   "port", "user", "password", "dbname", "connect_timeout", "application_name",
                        nullptr};
  const char* values[] = {c.host.c_str(),        port.c_str(),    c.username.c_str(), AsCString(c.password),
                          c.dbname.c_str(), timeout.c_str(), kApplicationName,   nullptr};
  Connection conn(PQconnectdbParams(keys, values, /*expand_dbname=*/0));
  if (!conn) return RotationError("out of memory connecting to PostgreSQL");
  if (PQstatus(conn.get()) != CONNECTION_OK)
    return RotationError("could not log in to PostgreSQL at " + c.host + ":" + port + " as " + c.username + ": " +
                         Redacted(PQerrorMessage(conn.get()), c.password_view()));
  return conn;
}

// Runs `sql` (no parameters); an error carries the server's message with `secret` redacted.
Status Run(PGconn* conn, const std::string& sql, ExecStatusType expected, ByteView secret) {
  PGresult* result = PQexec(conn, sql.c_str());
  Status status = PQresultStatus(result) == expected
                      ? Status::Ok()
                      : RotationError(Redacted(PQresultErrorMessage(result), secret));
  PQclear(result);
  return status;
}

// ALTER USER <username> WITH PASSWORD <verifier of password>, the verifier computed by libpq
// (the server's password_encryption algorithm) so that the plaintext never leaves this process.
Status ChangePassword(PGconn* conn, const DbCredentials& pending) {
  char* identifier = PQescapeIdentifier(conn, pending.username.c_str(), pending.username.size());
  if (identifier == nullptr) return RotationError("could not quote the user name: " + Redacted(PQerrorMessage(conn), {}));
  std::string sql = std::string("ALTER USER ") + identifier + " WITH PASSWORD ";
  PQfreemem(identifier);
  char* verifier = PQencryptPasswordConn(conn, AsCString(pending.password), pending.username.c_str(), nullptr);
  if (verifier == nullptr)
    return RotationError("could not compute the password verifier: " +
                         Redacted(PQerrorMessage(conn), pending.password_view()));
  char* literal = PQescapeLiteral(conn, verifier, std::strlen(verifier));
  crypto::Cleanse(verifier, std::strlen(verifier));
  PQfreemem(verifier);
  if (literal == nullptr) return RotationError("could not quote the password verifier");
  sql += literal;
  crypto::Cleanse(literal, std::strlen(literal));
  PQfreemem(literal);
  Status changed = Run(conn, sql, PGRES_COMMAND_OK, pending.password_view());
  crypto::Cleanse(sql);
  if (!changed.ok()) return RotationError("ALTER USER " + pending.username + " failed: " + changed.message());
  return Status::Ok();
}

}  // namespace

bool IsPostgresSingleUserFunction(std::string_view id) {
  if (id == kPostgresSingleUserFunction) return true;
  // arn:<partition>:lambda:<region>:<account>:function:<name>
  std::string_view parts[7];
  size_t n = 0;
  while (n < 6) {
    const size_t colon = id.find(':');
    if (colon == std::string_view::npos) return false;
    parts[n++] = id.substr(0, colon);
    id.remove_prefix(colon + 1);
  }
  parts[6] = id;
  return parts[0] == "arn" && parts[1].starts_with("aws") && parts[2] == "lambda" && !parts[3].empty() &&
         !parts[4].empty() && parts[5] == "function" && parts[6] == kPostgresSingleUserFunction;
}

PasswordOptions PostgresSingleUserRotator::DefaultPasswordOptions() {
  PasswordOptions o;
  o.length = 32;
  o.exclude_characters = "/@\"'\\";
  return o;
}

Status PostgresSingleUserRotator::CreateSecret(RotationContext& ctx) {
  MERIDIAN_ASSIGN_OR_RETURN(auto current, ctx.GetValue("AWSCURRENT"));
  {
    auto checked = ParseCredentials(current);
    if (!checked.ok()) return RotationError("AWSCURRENT: " + checked.status().message());
  }
  auto pending = ctx.GetValue("AWSPENDING");
  if (pending.ok()) return Status::Ok();  // created by an earlier attempt of this rotation
  if (pending.status().type() != "ResourceNotFoundException") return pending.status();
  MERIDIAN_ASSIGN_OR_RETURN(auto password, ctx.RandomPassword(options_.password));
  MERIDIAN_ASSIGN_OR_RETURN(auto value, WithPassword(current, password.view()));
  return ctx.PutPendingValue(value);
}

Status PostgresSingleUserRotator::SetSecret(RotationContext& ctx) {
  MERIDIAN_ASSIGN_OR_RETURN(auto current, ReadCredentials(ctx, "AWSCURRENT"));
  MERIDIAN_ASSIGN_OR_RETURN(auto pending, ReadCredentials(ctx, "AWSPENDING"));
  if (Connect(pending, options_.connect_timeout_seconds).ok()) return Status::Ok();  // already set
  if (current.username != pending.username)
    return RotationError("AWSPENDING's username " + pending.username + " is not AWSCURRENT's (" + current.username + ")");
  if (current.host != pending.host)
    return RotationError("AWSPENDING's host " + pending.host + " is not AWSCURRENT's (" + current.host + ")");

  auto conn = Connect(current, options_.connect_timeout_seconds);
  Status current_failure = conn.status();
  if (!conn.ok()) {
    // The password may have been set by a rotation whose finishSecret did not complete.
    auto previous = ReadCredentials(ctx, "AWSPREVIOUS");
    if (previous.ok() && previous->username == current.username && previous->host == current.host)
      conn = Connect(*previous, options_.connect_timeout_seconds);
  }
  if (!conn.ok())
    return RotationError("Unable to log into the database with the previous, current, or pending secret of " +
                         ctx.SecretArn() + " (" + current_failure.message() + ")");
  return ChangePassword(conn->get(), pending);
}

Status PostgresSingleUserRotator::TestSecret(RotationContext& ctx) {
  MERIDIAN_ASSIGN_OR_RETURN(auto pending, ReadCredentials(ctx, "AWSPENDING"));
  MERIDIAN_ASSIGN_OR_RETURN(auto conn, Connect(pending, options_.connect_timeout_seconds));
  return Run(conn.get(), "SELECT 1", PGRES_TUPLES_OK, pending.password_view());
}

}  // namespace meridian::secrets
