// Interop between Meridian's SDK (through the `meridian encrypt|decrypt` CLI code, built as the
// meridian-esdk tool) and the AWS Encryption SDK for JavaScript (@aws-crypto/client-node).
// Both directions: JS encrypts -> Meridian decrypts, Meridian encrypts -> JS decrypts, for raw AES
// (128/192/256) and raw RSA (PKCS1, OAEP-SHA1/256/384/512) keyrings, every algorithm suite, frame
// sizes 1, 4096 and 65536, empty / one-frame / multi-frame plaintexts, and an encryption context
// with non-ASCII text.
//
// Usage: node tests/interop/esdk_interop.mjs /path/to/meridian-esdk
// Exit codes: 0 all passed, 1 failures, 77 skipped (node_modules not installed).
import { execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(path.join(repoRoot, 'package.json'))
let esdk
try {
  esdk = require('@aws-crypto/client-node')
} catch (e) {
  console.log('SKIP: @aws-crypto/client-node is not installed (run `npm ci` in the repository root)')
  process.exit(77)
}
const { buildClient, CommitmentPolicy, RawAesKeyringNode, RawRsaKeyringNode, RawAesWrappingSuiteIdentifier,
  AlgorithmSuiteIdentifier } = esdk

const cli = process.argv[2] || process.env.MERIDIAN_ESDK_CLI
if (!cli || !fs.existsSync(cli)) {
  console.error('usage: esdk_interop.mjs /path/to/meridian-esdk')
  process.exit(1)
}

const forbidClient = buildClient(CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT)
const requireClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'esdk-interop-'))
const context = { purpose: 'interop', '名前': '値 ✓ ü€', 'ключ': 'значение' }

const SUITES = [0x0014, 0x0046, 0x0078, 0x0114, 0x0146, 0x0178, 0x0214, 0x0346, 0x0378, 0x0478, 0x0578]
const committing = (id) => id === 0x0478 || id === 0x0578
const hex = (id) => '0x' + id.toString(16).padStart(4, '0')

// Keyrings: the JS keyring and the matching --wrapping-keys arguments for the Meridian CLI.
function aesKeyring (bits) {
  const key = crypto.randomBytes(bits / 8)
  const file = path.join(tmp, `aes-${bits}.key`)
  fs.writeFileSync(file, key)
  const suite = RawAesWrappingSuiteIdentifier[`AES${bits}_GCM_IV12_TAG16_NO_PADDING`]
  // The JS keyring takes ownership of (and later zeroes) the buffer it is given: pass a copy.
  return {
    name: `raw-aes-${bits}`,
    js: () => new RawAesKeyringNode({ keyName: `key-${bits}`, keyNamespace: 'meridian-interop', unencryptedMasterKey: new Uint8Array(key), wrappingSuite: suite }),
    cli: ['provider=raw-aes', 'namespace=meridian-interop', `name=key-${bits}`, `key=@${file}`]
  }
}
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 })
const rsaPrivatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' })
const rsaPublicPem = rsa.publicKey.export({ type: 'spki', format: 'pem' })
const rsaFile = path.join(tmp, 'rsa.pem')
fs.writeFileSync(rsaFile, rsaPrivatePem)
function rsaKeyring (padding) {
  const opts = padding === 'pkcs1'
    ? { padding: crypto.constants.RSA_PKCS1_PADDING }
    : { padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: padding.replace('oaep-', '') }
  return {
    name: `raw-rsa-${padding}`,
    js: () => new RawRsaKeyringNode({ keyName: 'rsa-key', keyNamespace: 'meridian-interop-rsa', rsaKey: { privateKey: rsaPrivatePem, publicKey: rsaPublicPem }, ...opts }),
    cli: ['provider=raw-rsa', 'namespace=meridian-interop-rsa', 'name=rsa-key', `key=@${rsaFile}`, `padding=${padding}`]
  }
}

function pattern (n) {
  const b = Buffer.alloc(n)
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff
  return b
}

function runCli (args, input) {
  return execFileSync(cli, args, { input, maxBuffer: 1 << 28, stdio: ['pipe', 'pipe', 'pipe'] })
}

let passed = 0
const failures = []
const skipped = {}
async function check (label, fn) {
  try {
    await fn()
    passed++
  } catch (e) {
    const msg = e.stderr ? e.stderr.toString().trim() : (e.message || String(e))
    failures.push(`${label}: ${msg}`)
  }
}

// Node >= 20.11 refuses RSA PKCS#1 v1.5 *decryption* (CVE-2023-46809) unless the process was
// started with --security-revert=CVE-2023-46809; detect it so that direction is reported as skipped.
let nodePkcs1Decrypt = true
try {
  crypto.privateDecrypt({ key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_PADDING },
    crypto.publicEncrypt({ key: rsa.publicKey, padding: crypto.constants.RSA_PKCS1_PADDING }, Buffer.alloc(32)))
} catch (e) {
  nodePkcs1Decrypt = false
}
if (!nodePkcs1Decrypt && !process.execArgv.includes('--security-revert=CVE-2023-46809')) {
  // Re-run with the revert flag so JS can decrypt the PKCS#1 v1.5 data keys Meridian writes
  // (test-only: the message format requires PKCS#1 v1.5 support for raw RSA keyrings).
  const { spawnSync } = await import('node:child_process')
  const r = spawnSync(process.execPath, ['--security-revert=CVE-2023-46809', ...process.argv.slice(1)], { stdio: 'inherit' })
  fs.rmSync(tmp, { recursive: true, force: true })
  process.exit(r.status === null ? 1 : r.status)
}

async function interop (kr, suite, frame, size) {
  const pt = pattern(size)
  const label = `${kr.name} suite ${hex(suite)} frame ${frame} plaintext ${size}B`
  const jsClient = committing(suite) ? requireClient : forbidClient
  const policy = committing(suite) ? 'require-encrypt-allow-decrypt' : 'forbid-encrypt-allow-decrypt'
  const ecArgs = Object.entries(context).map(([k, v]) => `${k}=${v}`)
  // JS encrypts, Meridian decrypts.
  await check(`JS->Meridian ${label}`, async () => {
    const { result } = await jsClient.encrypt(kr.js(), pt, { encryptionContext: context, suiteId: suite, frameLength: frame })
    const out = runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--commitment-policy', 'require-encrypt-allow-decrypt',
      '--wrapping-keys', ...kr.cli, '--encryption-context', ...ecArgs], result)
    if (!out.equals(pt)) throw new Error('plaintext mismatch')
  })
  // Meridian encrypts, JS decrypts.
  if (kr.name.endsWith('pkcs1') && !nodePkcs1Decrypt) {
    skipped['Meridian->JS raw RSA PKCS1: Node refuses PKCS#1 v1.5 decryption (CVE-2023-46809)'] =
      (skipped['Meridian->JS raw RSA PKCS1: Node refuses PKCS#1 v1.5 decryption (CVE-2023-46809)'] || 0) + 1
    return
  }
  await check(`Meridian->JS ${label}`, async () => {
    const ct = runCli(['encrypt', '-i', '-', '-o', '-', '-q', '--commitment-policy', policy, '--algorithm', hex(suite),
      '--frame-length', String(frame), '--wrapping-keys', ...kr.cli, '--encryption-context', ...ecArgs], pt)
    const { plaintext, messageHeader } = await requireClient.decrypt(kr.js(), ct)
    if (!Buffer.from(plaintext).equals(pt)) throw new Error('plaintext mismatch')
    if (messageHeader.suiteId !== suite) throw new Error(`suite ${messageHeader.suiteId} != ${suite}`)
    if (messageHeader.frameLength !== frame) throw new Error(`frame length ${messageHeader.frameLength} != ${frame}`)
    for (const [k, v] of Object.entries(context)) {
      if (messageHeader.encryptionContext[k] !== v) throw new Error(`encryption context ${k} lost`)
    }
  })
}

const aes256 = aesKeyring(256)
// Full matrix on AES-256: every suite x frame size x plaintext shape.
for (const suite of SUITES) {
  for (const frame of [1, 4096, 65536]) {
    const sizes = frame === 1 ? [0, 1, 300] : [0, 100, frame * 2 + 17]
    for (const size of sizes) await interop(aes256, suite, frame, size)
  }
}
// Every other keyring: every suite, multi-frame plaintext.
for (const kr of [aesKeyring(128), aesKeyring(192), rsaKeyring('pkcs1'), rsaKeyring('oaep-sha1'),
  rsaKeyring('oaep-sha256'), rsaKeyring('oaep-sha384'), rsaKeyring('oaep-sha512')]) {
  for (const suite of SUITES) await interop(kr, suite, 4096, 10000)
}

// A message from JS with a flipped bit is rejected by Meridian (and vice versa).
await check('tampered JS message rejected by Meridian', async () => {
  const { result } = await requireClient.encrypt(aes256.js(), pattern(5000), { encryptionContext: context, frameLength: 1024 })
  result[result.length - 200] ^= 1
  let failed = false
  try { runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', ...aes256.cli], result) } catch (e) { failed = true }
  if (!failed) throw new Error('tampered message decrypted')
})
await check('tampered Meridian message rejected by JS', async () => {
  const ct = runCli(['encrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', ...aes256.cli], pattern(5000))
  ct[ct.length - 200] ^= 1
  let failed = false
  try { await requireClient.decrypt(aes256.js(), ct) } catch (e) { failed = true }
  if (!failed) throw new Error('tampered message decrypted')
})

fs.rmSync(tmp, { recursive: true, force: true })
const skippedTotal = Object.values(skipped).reduce((a, b) => a + b, 0)
console.log(`esdk interop: ${passed + failures.length} checks ran, ${passed} passed, ${failures.length} failed, ${skippedTotal} skipped`)
for (const [why, n] of Object.entries(skipped)) console.log(`  skipped ${n}: ${why}`)
for (const f of failures.slice(0, 30)) console.log(`  FAILED ${f}`)
process.exit(failures.length ? 1 : 0)
