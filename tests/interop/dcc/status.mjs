#!/usr/bin/env node
// node status.mjs FILE... --status-dir DIR [--library dcc|db]
// A status-list library's own check, bit by bit, run on each credential FILE (JSON; for a CLR
// transcript, on every credential it embeds): the Digital Credentials Consortium's
// @digitalcredentials/vc-bitstring-status-list 1.0.0 (under the Learner Credential Wallet and
// DCC's verifier-core; the default), or Digital Bazaar's @digitalbazaar/vc-bitstring-status-list
// 2.0.1 from ../node_modules (--library db). Unlike ../verify.mjs, no policy is laid over the
// library: what it read is printed as is. The status list credentials come from DIR/index.json
// ({url: file}); each list's own eddsa-rdfc-2022 proof is verified with the same vendor's Data
// Integrity libraries, and its issuer must be the credential's. Nothing is fetched:
// the offline loader is the Digital Bazaar harness's (../lib/loader.mjs), which only serves
// pinned contexts, did:key documents and the lists in DIR.
// Prints one JSON line per credential: {"file", "id", "verified", "entries": [{"purpose",
// "index", "set"}], "error"}. "set" is the bit DCC read (true: revoked / suspended).
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import * as dccStatus from '@digitalcredentials/vc-bitstring-status-list';
import * as dccIntegrity from '@digitalcredentials/data-integrity';
import * as dccEddsa from '@digitalcredentials/eddsa-rdfc-2022-cryptosuite';
// Not in this folder's package.json: resolved from ../node_modules (the Digital Bazaar harness).
import * as dbStatus from '@digitalbazaar/vc-bitstring-status-list';
import * as dbIntegrity from '@digitalbazaar/data-integrity';
import * as dbEddsa from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {offlineLoader} from '../lib/loader.mjs';

const {values, positionals: files} = parseArgs({allowPositionals: true,
  options: {'status-dir': {type: 'string'}, library: {type: 'string', default: 'dcc'}}});
const LIBRARIES = {dcc: [dccStatus, dccIntegrity, dccEddsa], db: [dbStatus, dbIntegrity, dbEddsa]};
if(!files.length || !values['status-dir'] || !LIBRARIES[values.library]) {
  process.stderr.write('usage: node status.mjs FILE... --status-dir DIR [--library dcc|db]\n');
  process.exit(2);
}
const [{checkStatus}, {DataIntegrityProof}, {cryptosuite: eddsaRdfc2022}] = LIBRARIES[values.library];
const documentLoader = offlineLoader({statusDir: path.resolve(values['status-dir'])});

function credentialsIn(document) {
  const types = [].concat(document.type ?? []);
  if(types.includes('ClrCredential')) {
    return [].concat(document.credentialSubject?.verifiableCredential ?? []);
  }
  return [document];
}

for(const file of files) {
  for(const credential of credentialsIn(JSON.parse(fs.readFileSync(file, 'utf8')))) {
    const result = await checkStatus({credential, documentLoader,
      suite: new DataIntegrityProof({cryptosuite: eddsaRdfc2022}),
      verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true});
    // DCC reports a set bit as verified: false; Digital Bazaar as status: true.
    const entries = (result.results ?? []).map(({verified, status, credentialStatus: entry}) => ({
      purpose: entry.statusPurpose, index: entry.statusListIndex,
      set: values.library === 'db' ? status === true : verified === false}));
    process.stdout.write(JSON.stringify({file, id: credential.id, verified: result.verified, entries,
      error: result.error ? String(result.error.message ?? result.error) : null}) + '\n');
  }
}
