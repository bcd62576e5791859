// Badgesmith's ECDSA interop fixtures, made with Digital Bazaar's libraries (package.json pins them):
//   npm ci && node sign-ecdsa.mjs unsigned.json ../../../schemas/contexts SUITE(rdfc|sd) [P-256|P-384] [selectivePointer ...]
// A fresh did:key issuer each run; contexts only from Badgesmith's pinned folder (nothing fetched).
// Prints {"signed": <credential with the proof the verifier sees>, "base": <sd base, if any>}
import fs from 'node:fs';
import path from 'node:path';
import * as EcdsaMultikey from '@digitalbazaar/ecdsa-multikey';
import {cryptosuite as rdfc} from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import * as sd from '@digitalbazaar/ecdsa-sd-2023-cryptosuite';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import jsigs from 'jsonld-signatures';
const {purposes: {AssertionProofPurpose}} = jsigs;
const [file, ctxDir, suite, curve = 'P-256', ...selective] = process.argv.slice(2);
const index = JSON.parse(fs.readFileSync(path.join(ctxDir, 'index.json'), 'utf8'));
const documentLoader = async url => {
  const entry = index[url];
  if(!entry) throw new Error(`not pinned: ${url}`);
  return {contextUrl: null, documentUrl: url, document: JSON.parse(fs.readFileSync(path.join(ctxDir, entry.file), 'utf8'))};
};
const key = await EcdsaMultikey.generate({curve});
const did = `did:key:${key.publicKeyMultibase}`;
key.controller = did; key.id = `${did}#${key.publicKeyMultibase}`;
const credential = JSON.parse(fs.readFileSync(file, 'utf8').replaceAll('ISSUER_DID', did));
const purpose = new AssertionProofPurpose();
let out;
if(suite === 'rdfc') {
  const s = new DataIntegrityProof({signer: key.signer(), cryptosuite: rdfc});
  out = {signed: await jsigs.sign(credential, {suite: s, purpose, documentLoader})};
} else {
  const base = await jsigs.sign(credential, {suite: new DataIntegrityProof({signer: key.signer(),
    cryptosuite: sd.createSignCryptosuite({mandatoryPointers: ['/issuer', '/validFrom',
      '/credentialSubject/achievement']})}),
    purpose, documentLoader});
  const derived = await jsigs.derive(base, {suite: new DataIntegrityProof({
    cryptosuite: sd.createDiscloseCryptosuite({selectivePointers: selective})}), purpose, documentLoader});
  out = {signed: derived, base};
}
process.stdout.write(JSON.stringify(out));
