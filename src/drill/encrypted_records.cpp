#include "drill/encrypted_records.h"

#include <libpq-fe.h>

#include <charconv>
#include <cstring>

#include "crypto/crypto.h"
#include "sdk/client.h"

namespace meridian::drill {
namespace {

Status StoreError(std::string message) { return Status("StorageException", "records: " + std::move(message), 500); }
Status IntegrityError(std::string message) { return Status("IntegrityException", std::move(message), 400); }

// The SDK's own context keys ("aws-crypto-public-key" for signing suites).
bool IsSdkReservedKey(std::string_view key) { return key.rfind("aws-crypto-", 0) == 0; }

std::string ServerMessage(const char* message) {
  std::string text = message != nullptr ? message : "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  return text;
}

// Holds a PGresult and clears it.
class ResultHolder {
 public:
  explicit ResultHolder(PGresult* result) : result_(result) {}
  ~ResultHolder() { PQclear(result_); }
  ResultHolder(const ResultHolder&) = delete;
  ResultHolder& operator=(const ResultHolder&) = delete;
  PGresult* get() const { return result_; }

 private:
  PGresult* result_;
};

// An error from a failed statement: a duplicate key is AlreadyExistsException, anything else
// (including a lost connection) a StorageException.
Status StatementError(PGconn* conn, PGresult* result, std::string_view what) {
  const char* state = result != nullptr ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr;
  std::string message = ServerMessage(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(conn));
  if (message.empty()) message = ServerMessage(PQerrorMessage(conn));
  if (state != nullptr && std::strcmp(state, "23505") == 0) {
    return Status("AlreadyExistsException", std::string(what) + ": " + message, 400);
  }
  return StoreError(std::string(what) + ": " + message);
}

// A table name (IsValidTableName) as a quoted identifier: reserved words work too.
std::string Quoted(const std::string& table) { return "\"" + table + "\""; }

Result<int64_t> ParseId(const char* text) {
  int64_t id = 0;
  const size_t n = std::strlen(text);
  auto [end, ec] = std::from_chars(text, text + n, id);
  if (ec != std::errc() || end != text + n) return StoreError(std::string("bad id from the server: ") + text);
  return id;
}

// Rows of "SELECT id::text, tenant, name, ssn, card_number" fetched in binary format (text
// columns arrive as their bytes, bytea as raw bytes; id as text).
Result<std::vector<SealedRecord>> RowsToRecords(PGresult* result) {
  std::vector<SealedRecord> records;
  const int rows = PQntuples(result);
  records.reserve(static_cast<size_t>(rows));
  for (int row = 0; row < rows; ++row) {
    SealedRecord record;
    MERIDIAN_ASSIGN_OR_RETURN(record.id, ParseId(PQgetvalue(result, row, 0)));
    auto field = [&](int column) {
      const char* value = PQgetvalue(result, row, column);
      return std::string_view(value, static_cast<size_t>(PQgetlength(result, row, column)));
    };
    record.tenant = std::string(field(1));
    record.name = std::string(field(2));
    std::string_view ssn = field(3), card = field(4);
    record.ssn_message.assign(ssn.begin(), ssn.end());
    record.card_number_message.assign(card.begin(), card.end());
    records.push_back(std::move(record));
  }
  return records;
}

Result<Bytes> SealField(std::string_view table, const CustomerRecord& record, std::string_view field,
                        std::string_view value, const std::shared_ptr<const sdk::Keyring>& keyring) {
  sdk::EncryptOptions options;
  options.encryption_context = FieldEncryptionContext(table, record.id, record.tenant, field);
  auto message = sdk::Encrypt(keyring, ByteView(reinterpret_cast<const uint8_t*>(value.data()), value.size()), options);
  if (!message.ok()) {
    return Status(message.status().type(), "encrypting " + std::string(field) + " of row " + std::to_string(record.id) +
                                               ": " + message.status().message(),
                  message.status().http_status());
  }
  return std::move(message).value();
}

Result<std::string> OpenField(std::string_view table, const SealedRecord& sealed, std::string_view field,
                              const Bytes& message, const std::shared_ptr<const sdk::Keyring>& keyring) {
  auto opened = sdk::Decrypt(keyring, message, sdk::DecryptOptions{});
  auto fail = [&](const Status& status) {
    return Status(status.type(), "decrypting " + std::string(field) + " of row " + std::to_string(sealed.id) + ": " +
                                     status.message(),
                  status.http_status());
  };
  if (!opened.ok()) return fail(opened.status());
  Status bound = CheckFieldContext(opened->encryption_context,
                                   FieldEncryptionContext(table, sealed.id, sealed.tenant, field));
  if (!bound.ok()) {
    crypto::Cleanse(opened->plaintext);
    return fail(bound);
  }
  std::string value(opened->plaintext.begin(), opened->plaintext.end());
  crypto::Cleanse(opened->plaintext);
  return value;
}

}  // namespace

sdk::EncryptionContext FieldEncryptionContext(std::string_view table, int64_t row_id, std::string_view tenant,
                                              std::string_view field) {
  return {{"table", std::string(table)},
          {"row_id", std::to_string(row_id)},
          {"tenant", std::string(tenant)},
          {"field", std::string(field)}};
}

Status CheckFieldContext(const sdk::EncryptionContext& message_context, const sdk::EncryptionContext& expected) {
  for (const auto& [key, value] : expected) {
    auto it = message_context.find(key);
    if (it == message_context.end()) return IntegrityError("the message's encryption context lacks '" + key + "'");
    if (it->second != value) {
      return IntegrityError("the message is bound to " + key + "='" + it->second + "', not '" + value + "'");
    }
  }
  for (const auto& [key, value] : message_context) {
    if (!expected.contains(key) && !IsSdkReservedKey(key)) {
      return IntegrityError("the message's encryption context has an unexpected key '" + key + "'");
    }
  }
  return Status::Ok();
}

bool IsValidTableName(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (!(name[0] == '_' || (name[0] >= 'a' && name[0] <= 'z'))) return false;
  return name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") == std::string_view::npos;
}

Result<SealedRecord> SealRecord(const CustomerRecord& record, std::string_view table,
                                const std::shared_ptr<const sdk::Keyring>& keyring) {
  if (keyring == nullptr) return errors::Validation("SealRecord needs a keyring");
  SealedRecord sealed{record.id, record.tenant, record.name, {}, {}};
  MERIDIAN_ASSIGN_OR_RETURN(sealed.ssn_message, SealField(table, record, kSsnField, record.ssn, keyring));
  MERIDIAN_ASSIGN_OR_RETURN(sealed.card_number_message,
                            SealField(table, record, kCardNumberField, record.card_number, keyring));
  return sealed;
}

Result<CustomerRecord> OpenRecord(const SealedRecord& sealed, std::string_view table,
                                  const std::shared_ptr<const sdk::Keyring>& keyring) {
  if (keyring == nullptr) return errors::Validation("OpenRecord needs a keyring");
  CustomerRecord record{sealed.id, sealed.tenant, sealed.name, {}, {}};
  MERIDIAN_ASSIGN_OR_RETURN(record.ssn, OpenField(table, sealed, kSsnField, sealed.ssn_message, keyring));
  MERIDIAN_ASSIGN_OR_RETURN(record.card_number,
                            OpenField(table, sealed, kCardNumberField, sealed.card_number_message, keyring));
  return record;
}

Result<std::unique_ptr<EncryptedRecordStore>> EncryptedRecordStore::Connect(Options options) {
  if (!IsValidTableName(options.table)) {
    return errors::Validation("'" + options.table + "' is not a table name this store accepts ([a-z_][a-z0-9_]*)");
  }
  std::unique_ptr<EncryptedRecordStore> store(new EncryptedRecordStore(std::move(options)));
  MERIDIAN_RETURN_IF_ERROR(store->Reconnect());
  return store;
}

EncryptedRecordStore::~EncryptedRecordStore() {
  if (conn_ != nullptr) PQfinish(conn_);
  crypto::Cleanse(options_.conninfo);
}

Status EncryptedRecordStore::Reconnect(const std::string& conninfo) {
  if (conn_ != nullptr) {
    PQfinish(conn_);
    conn_ = nullptr;
  }
  if (!conninfo.empty()) {
    crypto::Cleanse(options_.conninfo);
    options_.conninfo = conninfo;
  }
  const std::string full =
      options_.conninfo + " connect_timeout=" + std::to_string(options_.connect_timeout_seconds);
  PGconn* conn = PQconnectdb(full.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    // The message names host and port, never the password.
    Status error = StoreError("cannot connect: " + ServerMessage(PQerrorMessage(conn)));
    PQfinish(conn);
    return error;
  }
  // Server notices ("relation already exists, skipping") are not errors: keep them off stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  conn_ = conn;
  return Status::Ok();
}

Result<pg_conn*> EncryptedRecordStore::Connection() {
  if (conn_ == nullptr) return StoreError("not connected (call Reconnect)");
  if (PQstatus(conn_) != CONNECTION_OK) return StoreError("the connection was lost: " + ServerMessage(PQerrorMessage(conn_)));
  return conn_;
}

Status EncryptedRecordStore::CreateTable() {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string sql = "CREATE TABLE IF NOT EXISTS " + Quoted(options_.table) +
                          " (id bigint PRIMARY KEY, tenant text NOT NULL, name text NOT NULL, "
                          "ssn bytea NOT NULL, card_number bytea NOT NULL)";
  ResultHolder result(PQexec(conn, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) return StatementError(conn, result.get(), "CREATE TABLE");
  return Status::Ok();
}

Status EncryptedRecordStore::Insert(const CustomerRecord& record, const std::shared_ptr<const sdk::Keyring>& keyring) {
  MERIDIAN_ASSIGN_OR_RETURN(SealedRecord sealed, SealRecord(record, options_.table, keyring));
  return Write(sealed, /*replace=*/false);
}

Status EncryptedRecordStore::Write(const SealedRecord& sealed, bool replace) {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string id = std::to_string(sealed.id);
  const char* values[5] = {id.c_str(), sealed.tenant.c_str(), sealed.name.c_str(),
                           reinterpret_cast<const char*>(sealed.ssn_message.data()),
                           reinterpret_cast<const char*>(sealed.card_number_message.data())};
  const int lengths[5] = {0, 0, 0, static_cast<int>(sealed.ssn_message.size()),
                          static_cast<int>(sealed.card_number_message.size())};
  const int formats[5] = {0, 0, 0, 1, 1};
  const std::string sql =
      replace ? "UPDATE " + Quoted(options_.table) + " SET tenant = $2, name = $3, ssn = $4, card_number = $5 WHERE id = $1"
              : "INSERT INTO " + Quoted(options_.table) + " (id, tenant, name, ssn, card_number) VALUES ($1, $2, $3, $4, $5)";
  ResultHolder result(PQexecParams(conn, sql.c_str(), 5, nullptr, values, lengths, formats, 0));
  if (PQresultStatus(result.get()) != PGRES_COMMAND_OK) {
    return StatementError(conn, result.get(), replace ? "UPDATE" : "INSERT");
  }
  if (replace && std::strcmp(PQcmdTuples(result.get()), "1") != 0) {
    return errors::NotFound("no record with id " + id + " to replace");
  }
  return Status::Ok();
}

Result<SealedRecord> EncryptedRecordStore::GetSealed(int64_t id) {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string id_text = std::to_string(id);
  const char* values[1] = {id_text.c_str()};
  const std::string sql = "SELECT id::text, tenant, name, ssn, card_number FROM " + Quoted(options_.table) + " WHERE id = $1";
  ResultHolder result(PQexecParams(conn, sql.c_str(), 1, nullptr, values, nullptr, nullptr, 1));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return StatementError(conn, result.get(), "SELECT");
  MERIDIAN_ASSIGN_OR_RETURN(auto records, RowsToRecords(result.get()));
  if (records.empty()) return errors::NotFound("no record with id " + id_text);
  return std::move(records.front());
}

Result<CustomerRecord> EncryptedRecordStore::Get(int64_t id, const std::shared_ptr<const sdk::Keyring>& keyring) {
  MERIDIAN_ASSIGN_OR_RETURN(SealedRecord sealed, GetSealed(id));
  return OpenRecord(sealed, options_.table, keyring);
}

Result<std::vector<SealedRecord>> EncryptedRecordStore::ListSealed(int64_t after_id, size_t limit) {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string after = std::to_string(after_id), count = std::to_string(limit);
  const char* values[2] = {after.c_str(), count.c_str()};
  const std::string sql = "SELECT id::text, tenant, name, ssn, card_number FROM " + Quoted(options_.table) +
                          " WHERE id > $1 ORDER BY id LIMIT $2";
  ResultHolder result(PQexecParams(conn, sql.c_str(), 2, nullptr, values, nullptr, nullptr, 1));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return StatementError(conn, result.get(), "SELECT");
  return RowsToRecords(result.get());
}

Result<std::vector<int64_t>> EncryptedRecordStore::ListIds() {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string sql = "SELECT id::text FROM " + Quoted(options_.table) + " ORDER BY id";
  ResultHolder result(PQexec(conn, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return StatementError(conn, result.get(), "SELECT");
  std::vector<int64_t> ids;
  for (int row = 0; row < PQntuples(result.get()); ++row) {
    MERIDIAN_ASSIGN_OR_RETURN(int64_t id, ParseId(PQgetvalue(result.get(), row, 0)));
    ids.push_back(id);
  }
  return ids;
}

Result<int64_t> EncryptedRecordStore::Count() {
  MERIDIAN_ASSIGN_OR_RETURN(PGconn * conn, Connection());
  const std::string sql = "SELECT count(*)::text FROM " + Quoted(options_.table);
  ResultHolder result(PQexec(conn, sql.c_str()));
  if (PQresultStatus(result.get()) != PGRES_TUPLES_OK || PQntuples(result.get()) != 1) {
    return StatementError(conn, result.get(), "SELECT count");
  }
  return ParseId(PQgetvalue(result.get(), 0, 0));
}

}  // namespace meridian::drill
