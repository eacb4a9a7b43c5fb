// Multi-Region key (MRK) interop across two Meridian region processes, between Meridian's SDK (the
// `meridian encrypt|decrypt` CLI) and the AWS Encryption SDK for JavaScript's MRK-aware keyrings.
// Starts `meridian up --regions us-east-1,us-west-2`, creates an MRK in us-east-1 and replicates it
// to us-west-2, then encrypts under the us-east-1 key and decrypts through us-west-2 only:
//   JS strict MRK keyring (us-east-1)  -> JS MRK discovery keyring (us-west-2 client only)
//   meridian encrypt (us-east-1)       -> JS MRK discovery keyring (us-west-2 client only)
//   JS strict MRK keyring (us-east-1)  -> meridian decrypt discovery / strict replica ARN (us-west-2)
// Every KMS call the JS side makes is logged per region; the decrypt side must call us-west-2's
// Decrypt with the replica ARN and never us-east-1.
//
// Usage: node tests/interop/esdk_mrk_interop.mjs /path/to/meridian
// Exit codes: 0 passed, 1 failed, 77 skipped (node_modules or the meridian binary unavailable).
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
const {
  buildClient, CommitmentPolicy, AwsKmsMrkAwareSymmetricKeyringNode,
  AwsKmsMrkAwareSymmetricDiscoveryKeyringNode, buildAwsKmsMrkAwareDiscoveryMultiKeyringNode
} = esdk
const meridianBin = process.argv[2] || process.env.MERIDIAN_BIN
if (!meridianBin || !fs.existsSync(meridianBin)) {
  console.log(`SKIP: ${meridianBin || 'the meridian binary'} is not built`)
  process.exit(77)
}

const EAST = 'us-east-1'
const WEST = 'us-west-2'
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const portFree = (port) => new Promise((resolve) => {
  const s = net.createServer()
  s.once('error', () => resolve(false))
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)))
})
// `meridian up` with two regions uses P (edge), P+1 and P+2 (regions): find three free in a row.
async function freePortRun (count) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20000 + Math.floor(Math.random() * 40000)
    let ok = true
    for (let i = 0; i < count && ok; i++) ok = await portFree(base + i)
    if (ok) return base
  }
  throw new Error('no run of free ports found')
}

// --- Start the two-region deployment --------------------------------------------------------------
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'esdk-mrk-meridian-'))
let meridian
let meridianLog = ''
async function startMeridian () {
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePortRun(3)
    meridianLog = ''
    const child = spawn(meridianBin, ['up', '--data-dir', dataDir, '--regions', `${EAST},${WEST}`, '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout.on('data', (d) => { meridianLog += d })
    child.stderr.on('data', (d) => { meridianLog += d })
    const ready = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), 60000)
      const onData = () => { if (meridianLog.includes('meridian: ready')) { clearTimeout(timer); resolve(true) } }
      child.stdout.on('data', onData)
      child.on('exit', () => { clearTimeout(timer); resolve(false) })
    })
    if (ready) return { child, port }
    child.kill('SIGTERM')
    await new Promise((resolve) => { if (child.exitCode !== null) resolve(); else { child.on('exit', resolve); setTimeout(resolve, 10000) } })
    if (!meridianLog.includes('already in use')) break
  }
  return null
}
async function stopMeridian () {
  if (!meridian) return
  const child = meridian
  meridian = undefined
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
    child.kill('SIGTERM')
    const result = await Promise.race([exited, sleep(15000).then(() => null)])
    if (!result) {
      console.log('FAILED: meridian up did not exit within 15 s of SIGTERM')
      child.kill('SIGKILL')
      return false
    }
    console.log(`meridian up stopped (SIGTERM): exit code ${result.code}${result.signal ? ', signal ' + result.signal : ''}`)
  }
  return true
}

const started = await startMeridian()
if (!started) {
  console.log('FAILED: meridian up did not become ready\n' + meridianLog)
  fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(1)
}
meridian = started.child
const edgeEndpoint = `http://127.0.0.1:${started.port}`

let passed = 0
const failures = []
const ran = []
async function check (label, fn) {
  ran.push(label)
  try { await fn(); passed++; console.log(`  ok   ${label}`) } catch (e) {
    const msg = `${label}: ${e.stderr && e.stderr.length ? e.stderr.toString().trim() : e.message}`
    failures.push(msg)
    console.log(`  FAIL ${msg}`)
  }
}

let stoppedCleanly = true
try {
  const cluster = JSON.parse(fs.readFileSync(path.join(dataDir, 'cluster.json'), 'utf8'))
  const endpoints = { [EAST]: cluster.regions?.[EAST]?.endpoint, [WEST]: cluster.regions?.[WEST]?.endpoint }
  if (!endpoints[EAST] || !endpoints[WEST]) throw new Error(`cluster.json lacks region endpoints: ${JSON.stringify(cluster.regions)}`)
  const credentials = { accessKeyId: cluster.admin?.access_key_id, secretAccessKey: cluster.admin?.secret_access_key }
  if (!credentials.accessKeyId || !credentials.secretAccessKey) throw new Error('cluster.json lacks admin credentials')
  console.log(`meridian up: edge ${edgeEndpoint}, ${EAST} ${endpoints[EAST]}, ${WEST} ${endpoints[WEST]}`)

  // One JS KMS client per region, each logging every command it sends.
  const calls = []
  const makeClient = (region, endpoint) => {
    const client = new esdk.KMS({ region, endpoint, credentials })
    client.middlewareStack.add((next, context) => async (args) => {
      calls.push({ region, endpoint, command: context.commandName, keyId: args.input && args.input.KeyId })
      return next(args)
    }, { step: 'initialize', name: 'meridianInteropCallLog' })
    return client
  }
  const eastClient = makeClient(EAST, endpoints[EAST])
  const westClient = makeClient(WEST, endpoints[WEST])
  // The decrypt side's client factory knows only us-west-2.
  const westOnlyProvider = (region) => {
    calls.push({ region, command: 'clientProvider' })
    if (region !== WEST) throw new Error(`client factory asked for ${region}`)
    return westClient
  }
  const callsSince = (mark) => calls.slice(mark)

  // --- Create the MRK in us-east-1 and replicate it to us-west-2 ------------------------------------
  const { KeyMetadata: primary } = await eastClient.send(new kmsSdk.CreateKeyCommand({ Description: 'meridian esdk MRK interop', MultiRegion: true }))
  if (!primary.KeyId.startsWith('mrk-') || primary.MultiRegion !== true) throw new Error(`CreateKey MultiRegion=true returned ${JSON.stringify(primary)}`)
  const eastArn = primary.Arn
  const arnParts = eastArn.split(':')
  if (arnParts[3] !== EAST) throw new Error(`primary ARN ${eastArn} is not in ${EAST}`)
  const account = arnParts[4]
  const westArn = [...arnParts.slice(0, 3), WEST, ...arnParts.slice(4)].join(':')
  const rep = await eastClient.send(new kmsSdk.ReplicateKeyCommand({ KeyId: eastArn, ReplicaRegion: WEST }))
  if (rep.ReplicaKeyMetadata && rep.ReplicaKeyMetadata.Arn !== westArn) throw new Error(`ReplicateKey returned replica ARN ${rep.ReplicaKeyMetadata.Arn}, expected ${westArn}`)
  let replica
  const deadline = Date.now() + 60000
  for (;;) {
    try {
      const { KeyMetadata } = await westClient.send(new kmsSdk.DescribeKeyCommand({ KeyId: primary.KeyId }))
      if (KeyMetadata.KeyState === 'Enabled') { replica = KeyMetadata; break }
    } catch (e) {
      if (e.name !== 'NotFoundException') throw e
    }
    if (Date.now() > deadline) throw new Error(`replica ${westArn} not Enabled in ${WEST} after 60 s`)
    await sleep(200)
  }
  if (replica.Arn !== westArn || replica.KeyId !== primary.KeyId) throw new Error(`replica metadata ${replica.Arn} / ${replica.KeyId} does not match ${westArn}`)
  console.log(`MRK ${eastArn} replicated to ${westArn}`)

  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
  const context = { tenant: 'acme', 'région': 'ü ✓' }
  const ecArgs = Object.entries(context).map(([k, v]) => `${k}=${v}`)
  const discoveryFilter = { accountIDs: [account], partition: 'aws' }
  const cliEnv = { ...process.env, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }
  delete cliEnv.AWS_SESSION_TOKEN
  delete cliEnv.AWS_ENDPOINT_URL
  delete cliEnv.AWS_ENDPOINT_URL_KMS
  const runCli = (args, input) => execFileSync(meridianBin, args, { input, env: cliEnv, stdio: ['pipe', 'pipe', 'pipe'], timeout: 60000 })
  const cliStrictEast = ['provider=aws-kms', `key=${eastArn}`, `endpoint=${endpoints[EAST]}`]
  const cliDiscoveryWest = ['provider=aws-kms', 'discovery=true', `region=${WEST}`, `endpoint=${endpoints[WEST]}`,
    'discovery-partition=aws', `discovery-account=${account}`]
  const cliStrictWestReplica = ['provider=aws-kms', `key=${westArn}`, `endpoint=${endpoints[WEST]}`]

  const jsEncryptEast = async (pt, suiteId) => {
    const mark = calls.length
    const keyring = new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: eastArn, client: eastClient })
    const { result, messageHeader } = await encrypt(keyring, pt, { encryptionContext: context, suiteId, frameLength: 4096 })
    const used = callsSince(mark)
    if (!used.length || used.some((c) => c.region !== EAST)) throw new Error(`encrypt called ${JSON.stringify(used)}`)
    const infos = messageHeader.encryptedDataKeys.map((e) => e.providerInfo)
    if (infos.length !== 1 || infos[0] !== eastArn) throw new Error(`EDK provider info ${JSON.stringify(infos)}, expected [${eastArn}]`)
    return result
  }
  // Decrypts with an MRK-aware discovery keyring that has only the us-west-2 client and asserts
  // that us-west-2's Decrypt was called for the replica and us-east-1 never was.
  const jsDecryptWest = async (ct, pt, keyring, what) => {
    const mark = calls.length
    const { plaintext, messageHeader } = await decrypt(keyring, ct)
    const used = callsSince(mark)
    if (!Buffer.from(plaintext).equals(pt)) throw new Error(`${what}: plaintext mismatch`)
    if (messageHeader.encryptedDataKeys[0].providerInfo !== eastArn) throw new Error(`${what}: EDK provider info is not the ${EAST} ARN`)
    for (const [k, v] of Object.entries(context)) if (messageHeader.encryptionContext[k] !== v) throw new Error(`${what}: encryption context lost ${k}`)
    const kmsCalls = used.filter((c) => c.command !== 'clientProvider')
    if (used.some((c) => c.region !== WEST)) throw new Error(`${what}: decrypt touched another region: ${JSON.stringify(used)}`)
    if (!kmsCalls.length || kmsCalls.some((c) => c.command !== 'DecryptCommand' || c.keyId !== westArn)) {
      throw new Error(`${what}: expected only DecryptCommand(${westArn}) on ${WEST}, got ${JSON.stringify(kmsCalls)}`)
    }
  }
  const westDiscoveryKeyrings = () => [
    [buildAwsKmsMrkAwareDiscoveryMultiKeyringNode({ regions: [WEST], discoveryFilter, clientProvider: westOnlyProvider }), 'discovery multi-keyring builder'],
    [new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: westClient, discoveryFilter }), 'discovery keyring']
  ]

  for (const suite of [0x0578, 0x0478]) {
    const hex = '0x' + suite.toString(16).padStart(4, '0')
    const pt = Buffer.alloc(20000, 0x61)
    await check(`JS MRK strict (${EAST}) -> JS MRK discovery via ${WEST} only, suite ${hex}`, async () => {
      const ct = await jsEncryptEast(pt, suite)
      for (const [keyring, what] of westDiscoveryKeyrings()) await jsDecryptWest(ct, pt, keyring, what)
      // The strict MRK-aware keyring configured with the replica ARN also accepts the us-east-1 EDK.
      await jsDecryptWest(ct, pt, new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: westArn, client: westClient }), 'strict keyring, replica ARN')
    })
    await check(`meridian encrypt (${EAST}) -> JS MRK discovery via ${WEST} only, suite ${hex}`, async () => {
      const ct = runCli(['encrypt', '-i', '-', '-o', '-', '-q', '--algorithm', hex, '--wrapping-keys', ...cliStrictEast, '--encryption-context', ...ecArgs], pt)
      for (const [keyring, what] of westDiscoveryKeyrings()) await jsDecryptWest(ct, pt, keyring, what)
    })
    await check(`JS MRK strict (${EAST}) -> meridian decrypt discovery + strict replica via ${WEST}, suite ${hex}`, async () => {
      const ct = await jsEncryptEast(pt, suite)
      for (const wk of [cliDiscoveryWest, cliStrictWestReplica]) {
        const out = runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', ...wk, '--encryption-context', ...ecArgs], ct)
        if (!out.equals(pt)) throw new Error(`plaintext mismatch (${wk[1]})`)
      }
    })
  }

  // The same ciphertext must be refused when the discovery filter names another account.
  await check(`discovery filters for another account refuse the MRK (JS and meridian, ${WEST})`, async () => {
    const ct = await jsEncryptEast(Buffer.from('filtered'), undefined)
    const otherFilter = { accountIDs: ['000000000000'], partition: 'aws' }
    let jsRefused = false
    try { await decrypt(new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: westClient, discoveryFilter: otherFilter }), ct) } catch (e) { jsRefused = true }
    if (!jsRefused) throw new Error('JS decrypted despite the discovery filter')
    let cliRefused = false
    try {
      runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', 'provider=aws-kms', 'discovery=true', `region=${WEST}`,
        `endpoint=${endpoints[WEST]}`, 'discovery-partition=aws', 'discovery-account=000000000000'], ct)
    } catch (e) { cliRefused = true }
    if (!cliRefused) throw new Error('meridian decrypted despite the discovery filter')
  })

  // Without a replica, us-west-2 cannot decrypt: the successes above came from the replica.
  await check(`an MRK never replicated is not decryptable via ${WEST} (JS and meridian)`, async () => {
    const { KeyMetadata: lone } = await eastClient.send(new kmsSdk.CreateKeyCommand({ Description: 'meridian esdk MRK interop, not replicated', MultiRegion: true }))
    const ct = await encrypt(new AwsKmsMrkAwareSymmetricKeyringNode({ keyId: lone.Arn, client: eastClient }), Buffer.from('lonely'), { encryptionContext: context })
    const mark = calls.length
    let jsRefused = false
    try { await decrypt(new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: westClient, discoveryFilter }), ct.result) } catch (e) { jsRefused = true }
    if (!jsRefused) throw new Error(`JS decrypted ${lone.Arn} in ${WEST} without a replica`)
    if (!callsSince(mark).some((c) => c.region === WEST && c.command === 'DecryptCommand')) throw new Error(`JS never asked ${WEST} to decrypt`)
    let cliRefused = false
    try { runCli(['decrypt', '-i', '-', '-o', '-', '-q', '--wrapping-keys', ...cliDiscoveryWest], ct.result) } catch (e) { cliRefused = true }
    if (!cliRefused) throw new Error(`meridian decrypted ${lone.Arn} in ${WEST} without a replica`)
  })

  // The edge endpoint routes by the signed region: a us-west-2 client pointed at it reaches the replica.
  await check(`JS MRK discovery via the edge endpoint signed for ${WEST}`, async () => {
    const pt = Buffer.from('through the edge')
    const ct = await jsEncryptEast(pt, undefined)
    const edgeWest = makeClient(WEST, edgeEndpoint)
    const mark = calls.length
    const { plaintext, messageHeader } = await decrypt(new AwsKmsMrkAwareSymmetricDiscoveryKeyringNode({ client: edgeWest, discoveryFilter }), ct)
    if (!Buffer.from(plaintext).equals(pt)) throw new Error('plaintext mismatch')
    if (messageHeader.encryptedDataKeys[0].providerInfo !== eastArn) throw new Error('EDK provider info is not the us-east-1 ARN')
    const used = callsSince(mark)
    if (used.length !== 1 || used[0].endpoint !== edgeEndpoint || used[0].keyId !== westArn) throw new Error(`unexpected calls ${JSON.stringify(used)}`)
  })
} catch (e) {
  failures.push(`setup: ${e.stack || e.message}`)
  console.log(`  FAIL setup: ${e.message}`)
} finally {
  stoppedCleanly = await stopMeridian()
  try { fs.rmSync(dataDir, { recursive: true, force: true, maxRetries: 5 }) } catch (e) { /* best effort */ }
}
if (!stoppedCleanly) failures.push('meridian up did not stop on SIGTERM')
console.log(`esdk MRK interop (meridian up ${EAST},${WEST}): ${ran.length} checks ran, ${passed} passed, ${failures.length} failed`)
for (const f of failures) console.log(`  FAILED ${f}`)
if (failures.length && meridianLog) console.log('--- meridian up output ---\n' + meridianLog.slice(-4000))
process.exit(failures.length ? 1 : 0)
