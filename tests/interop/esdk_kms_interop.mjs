// KMS keyring interop between Meridian's SDK (the `meridian encrypt|decrypt` code, built as the
// meridian-esdk tool) and the AWS Encryption SDK for JavaScript, both talking SigV4 to one real
// KMS endpoint: $MERIDIAN_KMS_ENDPOINT if set (e.g. a Meridian region), otherwise a moto_server
// started here. Checks JS(KMS keyring) -> Meridian(strict and discovery keyrings) and
// Meridian(KMS keyring) -> JS(strict and discovery keyrings), for a committing and a signed suite.
//
// Usage: node tests/interop/esdk_kms_interop.mjs /path/to/meridian-esdk [/path/to/meridian]
// With the second argument the test starts its own Meridian region (`meridian up`) and uses it.
// Exit codes: 0 passed, 1 failed, 77 skipped (node_modules or a KMS endpoint unavailable).
import { execFileSync, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(path.join(repoRoot, 'package.json'))
let esdk, kmsSdk
try {
  esdk = require('@aws-crypto/client-node')
  kmsSdk = require('@aws-sdk/client-kms')
} catch (e) {
  console.log('SKIP: npm packages not installed (run `npm ci` in the repository root)')
  process.exit(77)
}
const { buildClient, CommitmentPolicy, KmsKeyringNode, getClient, KMS } = esdk
const cli = process.argv[2] || process.env.MERIDIAN_ESDK_CLI

const freePort = () => new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)) }) })
const meridianBin = process.argv[3]
let region = process.env.AWS_REGION || 'us-east-1'
let credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID || 'AKIDMERIDIANTEST', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY || 'meridian-test-secret' }
let endpoint = process.env.MERIDIAN_KMS_ENDPOINT
let moto
let meridian
let meridianDir
if (meridianBin) {
  if (!fs.existsSync(meridianBin)) {
    console.log(`SKIP: ${meridianBin} is not built`)
    process.exit(77)
  }
  // A fresh single-region Meridian deployment with fixed bootstrap credentials.
  meridianDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esdk-kms-meridian-'))
  const port = await freePort()
  region = 'us-east-1'
  credentials = { accessKeyId: 'AKIAMERIDIANESDKTEST', secretAccessKey: 'meridian-esdk-interop-secret-0123456789abcdef' }
  meridian = spawn(meridianBin, ['up', '--data-dir', meridianDir, '--port', String(port), '--regions', region], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MERIDIAN_ADMIN_ACCESS_KEY_ID: credentials.accessKeyId, MERIDIAN_ADMIN_SECRET_ACCESS_KEY: credentials.secretAccessKey }
  })
  const ready = await new Promise((resolve) => {
    let out = ''
    const timer = setTimeout(() => resolve(false), 30000)
    meridian.stdout.on('data', (d) => { out += d; if (out.includes('meridian: ready')) { clearTimeout(timer); resolve(true) } })
    meridian.on('exit', () => { clearTimeout(timer); resolve(false) })
  })
  if (!ready) {
    console.log('FAILED: meridian up did not become ready')
    meridian.kill()
    process.exit(1)
  }
  endpoint = `http://127.0.0.1:${port}`
}
if (!endpoint) {
  const port = await freePort()
  try {
    execFileSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' })
  } catch (e) {
    console.log('SKIP: no KMS endpoint (set MERIDIAN_KMS_ENDPOINT or install moto_server)')
    process.exit(77)
  }
  moto = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
  endpoint = `http://127.0.0.1:${port}`
  for (let i = 0; i < 200; i++) {
    const up = await new Promise((resolve) => { const c = net.connect(port, '127.0.0.1', () => { c.end(); resolve(true) }); c.on('error', () => resolve(false)) })
    if (up) break
    await new Promise((r) => setTimeout(r, 50))
  }
}

const env = { ...process.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_REGION: region }
const kms = new kmsSdk.KMSClient({ region, endpoint, credentials })
const clientProvider = getClient(KMS, { endpoint, credentials })
const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)

let passed = 0
const failures = []
async function check (label, fn) {
  try { await fn(); passed++ } catch (e) { failures.push(`${label}: ${e.stderr ? e.stderr.toString().trim() : e.message}`) }
}
const runCli = (args, input) => execFileSync(cli, args, { input, env, stdio: ['pipe', 'pipe', 'pipe'] })

try {
  const { KeyMetadata } = await kms.send(new kmsSdk.CreateKeyCommand({ Description: 'meridian esdk interop' }))
  const arn = KeyMetadata.Arn
  const account = arn.split(':')[4]
  const context = { tenant: 'acme', 'région': 'ü ✓' }
  const ecArgs = Object.entries(context).map(([k, v]) => `${k}=${v}`)
  const strictCli = ['provider=aws-kms', `key=${arn}`, `endpoint=${endpoint}`]
  const discoveryCli = ['provider=aws-kms', 'discovery=true', `region=${region}`, `endpoint=${endpoint}`, 'discovery-partition=aws', `discovery-account=${account}`]
  for (const suite of [0x0478, 0x0578]) {
    const pt = Buffer.alloc(20000, 0x61)
    const hex = '0x' + suite.toString(16).padStart(4, '0')
    await check(`JS KMS keyring -> Meridian strict + discovery, suite ${hex}`, async () => {
      const { result } = await encrypt(new KmsKeyringNode({ generatorKeyId: arn, clientProvider }), pt, { encryptionContext: context, suiteId: suite, frameLength: 4096 })
      for (const wk of [strictCli, discoveryCli]) {
        const out = runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', ...wk, '--encryption-context', ...ecArgs], result)
        if (!out.equals(pt)) throw new Error('plaintext mismatch')
      }
    })
    await check(`Meridian KMS keyring -> JS strict + discovery, suite ${hex}`, async () => {
      const ct = runCli(['encrypt', '-i', '-', '-o', '-', '-q', '--algorithm', hex, '--wrapping-keys', ...strictCli, '--encryption-context', ...ecArgs], pt)
      const strict = await decrypt(new KmsKeyringNode({ keyIds: [arn], clientProvider }), ct)
      if (!Buffer.from(strict.plaintext).equals(pt)) throw new Error('plaintext mismatch (strict)')
      if (strict.messageHeader.encryptedDataKeys[0].providerInfo !== arn) throw new Error('EDK provider info is not the key ARN')
      const disc = await decrypt(new KmsKeyringNode({ discovery: true, clientProvider }), ct)
      if (!Buffer.from(disc.plaintext).equals(pt)) throw new Error('plaintext mismatch (discovery)')
    })
  }
  await check('Meridian discovery filter refuses another account', async () => {
    const { result } = await encrypt(new KmsKeyringNode({ generatorKeyId: arn, clientProvider }), Buffer.from('x'), { encryptionContext: context })
    let failed = false
    try { runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', 'provider=aws-kms', 'discovery=true', `region=${region}`, `endpoint=${endpoint}`, 'discovery-account=000000000000'], result) } catch (e) { failed = true }
    if (!failed) throw new Error('decrypted despite the discovery filter')
  })
} finally {
  if (moto) moto.kill()
  if (meridian) {
    meridian.kill('SIGTERM')
    await new Promise((resolve) => { meridian.on('exit', resolve); setTimeout(resolve, 10000) })
    try { fs.rmSync(meridianDir, { recursive: true, force: true, maxRetries: 5 }) } catch (e) { /* best effort */ }
  }
}
console.log(`esdk KMS interop (${moto ? 'moto_server' : meridian ? 'meridian up ' + endpoint : endpoint}): ${passed + failures.length} checks ran, ${passed} passed, ${failures.length} failed`)
for (const f of failures) console.log(`  FAILED ${f}`)
process.exit(failures.length ? 1 : 0)
