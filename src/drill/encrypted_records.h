// Customer records with client-side-encrypted fields, stored in PostgreSQL (seed 001's pattern):
// the application encrypts the sensitive fields before they reach the database, so the database,
// its WAL, its backups and its replicas only ever hold ciphertext.
//
// Table (name chosen by the caller, default "customer_records"):
//   id bigint PRIMARY KEY, tenant text, name text (in clear),
//   ssn bytea, card_number bytea   -- each an AWS Encryption SDK message (any keyring)
//
// Each encrypted field's message carries the encryption context FieldEncryptionContext(table,
// id, tenant, field): {"table": .., "row_id": "<id>", "tenant": .., "field": "ssn"|"card_number"}.
// Opening a field checks that the message's context holds exactly those pairs (the SDK may add
// its own "aws-crypto-public-key"), so a ciphertext copied into another row, tenant, column or
// table is refused (IntegrityException) instead of being shown as that row's value.
//
// EncryptedRecordStore holds one libpq connection; it is not thread-safe (one per thread).
// When the server goes away, calls fail with a StorageException and the store stays unusable
// until Reconnect() succeeds (e.g. after a standby was promoted, with that standby's conninfo).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/bytes.h"
#include "common/status.h"
#include "sdk/encryption_context.h"
#include "sdk/materials.h"

struct pg_conn;

namespace meridian::drill {

inline constexpr char kDefaultRecordTable[] = "customer_records";
inline constexpr char kSsnField[] = "ssn";
inline constexpr char kCardNumberField[] = "card_number";

// A record in clear, as the application sees it.
struct CustomerRecord {
  int64_t id = 0;
  std::string tenant;
  std::string name;
  std::string ssn;
  std::string card_number;
  bool operator==(const CustomerRecord&) const = default;
};

// A record as stored: the two sensitive fields are ESDK messages.
struct SealedRecord {
  int64_t id = 0;
  std::string tenant;
  std::string name;
  Bytes ssn_message;
  Bytes card_number_message;
};

// The encryption context binding `field` of row `row_id` of `table` for `tenant`.
sdk::EncryptionContext FieldEncryptionContext(std::string_view table, int64_t row_id, std::string_view tenant,
                                              std::string_view field);
// Ok iff `message_context` (a decrypt result's context) holds every pair of `expected` and no
// other pair except the SDK's own "aws-crypto-*" keys; IntegrityException otherwise.
Status CheckFieldContext(const sdk::EncryptionContext& message_context, const sdk::EncryptionContext& expected);

// Encrypts the record's sensitive fields under `keyring` (pure: no database). The messages use
// the SDK's default committing suite.
Result<SealedRecord> SealRecord(const CustomerRecord& record, std::string_view table,
                                const std::shared_ptr<const sdk::Keyring>& keyring);
// Decrypts both fields with `keyring` and checks their contexts. The error says which field.
Result<CustomerRecord> OpenRecord(const SealedRecord& sealed, std::string_view table,
                                  const std::shared_ptr<const sdk::Keyring>& keyring);
// True iff `name` is a table name this store accepts ([a-z_][a-z0-9_]{0,62}).
bool IsValidTableName(std::string_view name);

class EncryptedRecordStore {
 public:
  struct Options {
    std::string conninfo;                     // libpq conninfo (holds the password: never logged)
    std::string table = kDefaultRecordTable;  // IsValidTableName
    int connect_timeout_seconds = 5;
  };

  static Result<std::unique_ptr<EncryptedRecordStore>> Connect(Options options);
  ~EncryptedRecordStore();
  EncryptedRecordStore(const EncryptedRecordStore&) = delete;
  EncryptedRecordStore& operator=(const EncryptedRecordStore&) = delete;

  // Drops the connection and connects again to `conninfo` (empty: the same one as before).
  Status Reconnect(const std::string& conninfo = "");
  const std::string& table() const { return options_.table; }

  // CREATE TABLE IF NOT EXISTS (fails on a read-only standby).
  Status CreateTable();
  // SealRecord + INSERT; AlreadyExistsException if the id is taken. Returns once committed (with
  // the server's synchronous_commit setting).
  Status Insert(const CustomerRecord& record, const std::shared_ptr<const sdk::Keyring>& keyring);
  // INSERT of an already sealed record, or UPDATE of its fields when `replace` (re-encryption).
  Status Write(const SealedRecord& sealed, bool replace = false);
  // NotFoundException if there is no such row.
  Result<SealedRecord> GetSealed(int64_t id);
  // GetSealed + OpenRecord.
  Result<CustomerRecord> Get(int64_t id, const std::shared_ptr<const sdk::Keyring>& keyring);
  // Rows in id order with id > after_id, at most `limit`.
  Result<std::vector<SealedRecord>> ListSealed(int64_t after_id = INT64_MIN, size_t limit = 1000);
  Result<std::vector<int64_t>> ListIds();
  Result<int64_t> Count();

 private:
  explicit EncryptedRecordStore(Options options) : options_(std::move(options)) {}
  Result<pg_conn*> Connection();

  Options options_;
  pg_conn* conn_ = nullptr;
};

}  // namespace meridian::drill
