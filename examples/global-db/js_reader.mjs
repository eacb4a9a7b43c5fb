// The region-B reader of the global-database example, written against the AWS Encryption SDK for
// JavaScript instead of Meridian's SDK: proof that the stored records do not depend on our SDK.
//
// It reads the database password with GetSecretValue from region B's Secrets Manager (the
// replica of the secret created in region A), reads the rows of each table from region B's
// PostgreSQL standby (npm `pg`), and decrypts the SSN and card number with an MRK-aware discovery
// keyring whose only KMS client is region B's. Each message's encryption context must name the
// row (table, row_id, tenant, field), else the row counts as failed.
//
// Configuration (environment; global-db-app sets it when given --js-reader):
//   GLOBALDB_REGION, GLOBALDB_KMS_ENDPOINT   region B and its Meridian endpoint (KMS and Secrets Manager)
//   GLOBALDB_SECRET_ID                       the secret holding {"username", "password"}
//   GLOBALDB_PG_PORT, GLOBALDB_DATABASE      region B's standby on 127.0.0.1
//   GLOBALDB_TABLES                          comma-separated tables
//   AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY the caller's credentials
// Output (stdout, JSON): {"tables": {"<table>": {"rows": n, "decrypted": [{"id", "ssn",
// "card_number"}], "failed": n, "first_error": "..."}}}. Exit 0 unless the setup itself failed
// (a row that does not decrypt is reported, not fatal: strategy 3 is designed to fail here).
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(path.join(repoRoot, 'package.json'))
const { buildClient, CommitmentPolicy, KMS, AwsKmsMrkAwareSymmetricDiscoveryKeyringNode } = require('@aws-crypto/client-node')
const { SecretsManagerClient, GetSecretValueCommand } = require('@aws-sdk/client-secrets-manager')
const pg = require('pg')

function env (name) {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set`)
  return value
}

const region = env('GLOBALDB_REGION')
const endpoint = env('GLOBALDB_KMS_ENDPOINT')
const tables = env('GLOBALDB_TABLES').split(',').filter((t) => /^[a-z_][a-z0-9_]*$/.test(t))

// 1. The database password, from this region's Secrets Manager.
const secrets = new SecretsManagerClient({ region, endpoint })
const secret = await secrets.send(new GetSecretValueCommand({ SecretId: env('GLOBALDB_SECRET_ID') }))
const { username, password } = JSON.parse(secret.SecretString)
const account = secret.ARN.split(':')[4]

// 2. Decryption with region B's KMS only.
const { decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
const keyring = new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({
  client: new KMS({ region, endpoint, maxAttempts: 1 }),
  discoveryFilter: { accountIDs: [account], partition: 'aws' }
})

async function openField (table, row, field) {
  const { plaintext, messageHeader } = await decrypt(keyring, row[field])
  const ec = messageHeader.encryptionContext
  const expected = { table, row_id: String(row.id), tenant: row.tenant, field }
  for (const [k, v] of Object.entries(expected)) {
    if (ec[k] !== v) throw new Error(`${field} of row ${row.id}: encryption context ${k}=${ec[k]}, expected ${v}`)
  }
  for (const k of Object.keys(ec)) {
    if (!(k in expected) && !k.startsWith('aws-crypto-')) throw new Error(`${field} of row ${row.id}: unexpected context key ${k}`)
  }
  return plaintext.toString('utf8')
}

// 3. The rows, from this region's standby.
const db = new pg.Client({ host: '127.0.0.1', port: Number(env('GLOBALDB_PG_PORT')), database: env('GLOBALDB_DATABASE'), user: username, password })
await db.connect()
const out = { tables: {} }
try {
  for (const table of tables) {
    const { rows } = await db.query(`SELECT id::text AS id, tenant, ssn, card_number FROM ${table} ORDER BY id`)
    const result = { rows: rows.length, decrypted: [], failed: 0, first_error: '' }
    for (const row of rows) {
      try {
        const ssn = await openField(table, row, 'ssn')
        const cardNumber = await openField(table, row, 'card_number')
        result.decrypted.push({ id: Number(row.id), ssn, card_number: cardNumber })
      } catch (e) {
        result.failed++
        if (!result.first_error) result.first_error = `${e.name}: ${e.message}`
      }
    }
    out.tables[table] = result
    console.error(`js_reader: ${table}: ${result.decrypted.length}/${rows.length} rows decrypted in ${region}` +
      (result.first_error ? ` (first failure: ${result.first_error})` : ''))
  }
} finally {
  await db.end()
}
process.stdout.write(JSON.stringify(out) + '\n')
