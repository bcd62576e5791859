#!/usr/bin/env node
// node didauth.mjs SEED_HEX --challenge C [--challenge C2 …] [--domain D] [--suite ed25519-2020|eddsa-rdfc-2022] [--vc 1.1|2.0]
//                 [--holder DID]
// Prints a DIDAuth Verifiable Presentation signed by Digital Bazaar's libraries, as the
// Learner Credential Wallet makes it: createPresentation({holder}) with no credentials, then
// signPresentation with the authentication purpose over the challenge (and a domain only when
// given). The key is the did:key of the Ed25519 seed; the holder is that DID unless --holder
// names another (a presentation by a key other than its holder's). LCW signs with
// Ed25519Signature2020 over a VC 1.1 presentation, the defaults here.
// Several --challenge: one presentation per challenge, one compact JSON line each (benchmarks/claim.py).
// Exit 0 signed, 1 the libraries refused, 2 usage.
import {parseArgs} from 'node:util';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import {keyFromSeed} from './lib/oracle.mjs';
import {offlineLoader} from './lib/loader.mjs';

function usage(problem) {
  process.stderr.write(`didauth.mjs: ${problem}\nusage: node didauth.mjs SEED_HEX --challenge C [--domain D] ` +
    '[--suite ed25519-2020|eddsa-rdfc-2022] [--vc 1.1|2.0] [--holder DID]\n');
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({allowPositionals: true, options: {
    challenge: {type: 'string', multiple: true}, domain: {type: 'string'}, suite: {type: 'string'},
    vc: {type: 'string'}, holder: {type: 'string'}}});
} catch(e) {
  usage(e.message);
}
const {values: {challenge: challenges, domain, suite = 'ed25519-2020', vc: version = '1.1', holder}, positionals} = parsed;
if(positionals.length !== 1 || !challenges?.length) {
  usage('SEED_HEX and --challenge are required');
}
if(!['1.1', '2.0'].includes(version)) {
  usage('--vc is 1.1 or 2.0');
}
try {
  const key = await keyFromSeed(positionals[0]);
  let proof;
  if(suite === 'ed25519-2020') {
    const legacy = await Ed25519VerificationKey2020.generate({seed: key.seed, id: key.id, controller: key.did});
    proof = new Ed25519Signature2020({key: legacy});
  } else if(suite === 'eddsa-rdfc-2022') {
    proof = new DataIntegrityProof({signer: key.multikey.signer(), cryptosuite: eddsaRdfc2022});
  } else {
    usage(`unknown suite "${suite}"`);
  }
  const sign = async challenge => {
    // The library names the VC 1.1 context version 1.0 (its URL, credentials/v1, is the same).
    const presentation = vc.createPresentation({holder: holder ?? key.did, version: version === '1.1' ? 1.0 : 2.0});
    if(suite === 'eddsa-rdfc-2022' && version === '1.1') {
      presentation['@context'].push('https://w3id.org/security/data-integrity/v2');
    }
    return vc.signPresentation({presentation, suite: proof, challenge, domain, documentLoader: offlineLoader()});
  };
  if(challenges.length === 1) {
    process.stdout.write(JSON.stringify(await sign(challenges[0]), null, 2) + '\n');
  } else {
    for(const challenge of challenges) {
      process.stdout.write(JSON.stringify(await sign(challenge)) + '\n');
    }
  }
} catch(e) {
  process.stderr.write(`didauth.mjs: not signed: ${e.message}\n`);
  process.exitCode = 1;
}
