// The JavaScript AWS Encryption SDK (@aws-crypto/client-node) on the same cases as sdk_bench:
// bulk encrypt/decrypt (64 MiB, 4 KiB frames, suites 0x0478 and 0x0578) and 1 KiB messages/s.
// Prints one JSON object per case, in sdk_bench's format.
// Usage: node bench/sdk/js_bench.mjs [--size-mib 64] [--frame 4096] [--seconds 2]
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const require = createRequire(path.join(repoRoot, 'package.json'))
const { buildClient, CommitmentPolicy, RawAesKeyringNode, RawAesWrappingSuiteIdentifier } = require('@aws-crypto/client-node')

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, v, i, a) => (i % 2 === 0 ? acc.concat([[v, a[i + 1]]]) : acc), []))
const sizeMib = Number(args['--size-mib'] || 64)
const frame = Number(args['--frame'] || 4096)
const seconds = Number(args['--seconds'] || 2)

const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
const key = new Uint8Array(32).fill(0x11)
const keyring = () => new RawAesKeyringNode({ keyName: 'key', keyNamespace: 'bench', unencryptedMasterKey: new Uint8Array(key), wrappingSuite: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING })
const kr = keyring()

const big = Buffer.alloc(sizeMib << 20)
for (let i = 0; i < big.length; i++) big[i] = (i * 131) & 0xff
const now = () => Number(process.hrtime.bigint()) / 1e9
// CPU seconds used by this process (user + system, all threads), as sdk_bench measures.
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6 }

for (const suite of [0x0478, 0x0578]) {
  let bestEnc = Infinity; let bestDec = Infinity; let bestEncCpu = Infinity; let bestDecCpu = Infinity
  for (let run = 0; run < 2; run++) {
    let t0 = now(); let c0 = cpu()
    const { result } = await encrypt(kr, big, { suiteId: suite, frameLength: frame })
    bestEnc = Math.min(bestEnc, now() - t0); bestEncCpu = Math.min(bestEncCpu, cpu() - c0)
    t0 = now(); c0 = cpu()
    const { plaintext } = await decrypt(kr, result)
    bestDec = Math.min(bestDec, now() - t0); bestDecCpu = Math.min(bestDecCpu, cpu() - c0)
    if (plaintext.length !== big.length) throw new Error('size mismatch')
  }
  const mb = big.length / 1e6
  const id = suite.toString(16).padStart(4, '0')
  console.log(JSON.stringify({ case: 'bulk_encrypt', suite: id, frame, mib: sizeMib, mb_per_s: +(mb / bestEnc).toFixed(1), mb_per_cpu_s: +(mb / bestEncCpu).toFixed(1) }))
  console.log(JSON.stringify({ case: 'bulk_decrypt', suite: id, frame, mib: sizeMib, mb_per_s: +(mb / bestDec).toFixed(1), mb_per_cpu_s: +(mb / bestDecCpu).toFixed(1) }))
}

const small = Buffer.alloc(1024, 0x5a)
for (const suite of [0x0478, 0x0578]) {
  const budget = suite === 0x0578 ? seconds / 2 : seconds
  let n = 0; let ct
  let t0 = now(); let c0 = cpu()
  while (now() - t0 < budget) {
    ct = (await encrypt(kr, small, { suiteId: suite, frameLength: frame })).result
    n++
  }
  const encRate = n / (now() - t0); const encCpuRate = n / (cpu() - c0)
  n = 0; t0 = now(); c0 = cpu()
  while (now() - t0 < budget) {
    await decrypt(kr, ct)
    n++
  }
  const decRate = n / (now() - t0); const decCpuRate = n / (cpu() - c0)
  const id = suite.toString(16).padStart(4, '0')
  console.log(JSON.stringify({ case: 'small_encrypt', suite: id, bytes: 1024, msgs_per_s: Math.round(encRate), msgs_per_cpu_s: Math.round(encCpuRate) }))
  console.log(JSON.stringify({ case: 'small_decrypt', suite: id, bytes: 1024, msgs_per_s: Math.round(decRate), msgs_per_cpu_s: Math.round(decCpuRate) }))
}
