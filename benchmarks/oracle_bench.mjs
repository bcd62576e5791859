#!/usr/bin/env node
// Usage: node benchmarks/oracle_bench.mjs HARNESS_DIR CREDENTIALS.json SEED_HEX CREATED_ISO [--warmup W]
// Signs every unsigned credential in CREDENTIALS.json (a JSON array) with eddsa-rdfc-2022, then
// verifies them, one at a time in this process, with Digital Bazaar's libraries and the interop
// harness's offline document loader (HARNESS_DIR: tests/interop, or ../shared/oracle), exactly as
// the harness's bench.mjs does for its one template; the first W credentials are signed and
// verified first as a warm-up. Prints one JSON line: sign_per_s, verify_per_s and the proofValue
// of every signed credential (the caller compares them with its own).
import fs from 'node:fs';
import {createRequire} from 'node:module';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const args = process.argv.slice(2);
const warmupAt = args.indexOf('--warmup');
const warmup = warmupAt >= 0 ? Number(args.splice(warmupAt, 2)[1]) : 20;
const [harness, file, seedHex, created] = args;
if(!harness || !file || !/^[0-9a-f]{64}$/i.test(seedHex ?? '') || !created) {
  process.stderr.write('usage: node oracle_bench.mjs HARNESS_DIR CREDENTIALS.json SEED_HEX CREATED_ISO ' +
    '[--warmup W]\n');
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(harness), 'package.json'));
const load = name => import(pathToFileURL(require.resolve(name)).href);
const vc = await load('@digitalbazaar/vc');
const {DataIntegrityProof} = await load('@digitalbazaar/data-integrity');
const {cryptosuite} = await load('@digitalbazaar/eddsa-rdfc-2022-cryptosuite');
const Ed25519Multikey = await load('@digitalbazaar/ed25519-multikey');

// The harness's own strict offline loader: tests/interop's lib/loader.mjs, or the older oracle's.
const lib = f => pathToFileURL(path.join(path.resolve(harness), 'lib', f)).href;
const documentLoader = fs.existsSync(path.join(harness, 'lib', 'loader.mjs')) ?
  (await import(lib('loader.mjs'))).offlineLoader({}) :
  (await import(lib('oracle.mjs'))).createDocumentLoader();

const seed = Uint8Array.from(Buffer.from(seedHex, 'hex'));
const {publicKeyMultibase} = await Ed25519Multikey.generate({seed});
const did = `did:key:${publicKeyMultibase}`;
const key = await Ed25519Multikey.generate({seed, id: `${did}#${publicKeyMultibase}`, controller: did});
const signer = key.signer();
const date = new Date(created);
const sign = credential => vc.issue({credential: structuredClone(credential), documentLoader,
  suite: new DataIntegrityProof({signer, cryptosuite, date})});
const suite = new DataIntegrityProof({cryptosuite});
// The proof check alone, as the Python side measures it: a status entry is not looked up.
const checkStatus = async () => ({verified: true});
async function verify(credential) {
  const result = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  if(!result.verified) {
    throw new Error('a benchmark credential failed to verify: ' +
      (result.error?.errors?.[0]?.message ?? result.error?.message));
  }
}

const unsigned = JSON.parse(fs.readFileSync(file, 'utf8'));
for(const credential of unsigned.slice(0, warmup)) {
  await verify(await sign(credential));
}
let start = process.hrtime.bigint();
const signed = [];
for(const credential of unsigned) {
  signed.push(await sign(credential));
}
const signS = Number(process.hrtime.bigint() - start) / 1e9;
start = process.hrtime.bigint();
for(const credential of signed) {
  await verify(credential);
}
const verifyS = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(JSON.stringify({
  n: unsigned.length, sign_per_s: +(unsigned.length / signS).toFixed(1),
  verify_per_s: +(unsigned.length / verifyS).toFixed(1), node: process.version,
  proof_values: signed.map(c => [].concat(c.proof)[0].proofValue)
}) + '\n');
