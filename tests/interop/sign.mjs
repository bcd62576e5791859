#!/usr/bin/env node
// node sign.mjs UNSIGNED.json SEED_HEX [--suite eddsa-rdfc-2022|ed25519-2020] [--jwt] [--created ISO]
// Prints the credential signed by Digital Bazaar's libraries with the did:key of
// the Ed25519 seed (an issuer id "did:key:SELF" becomes that DID), or a VC-JWT.
// Exit 0 signed, 1 the libraries refused, 2 usage.
import fs from 'node:fs';
import {parseArgs} from 'node:util';
import {sign} from './lib/oracle.mjs';

function usage(problem) {
  process.stderr.write(`sign.mjs: ${problem}\nusage: node sign.mjs UNSIGNED.json SEED_HEX ` +
    '[--suite eddsa-rdfc-2022|ed25519-2020] [--jwt] [--created ISO]\n');
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({allowPositionals: true, options: {
    suite: {type: 'string'}, jwt: {type: 'boolean'}, created: {type: 'string'}}});
} catch(e) {
  usage(e.message);
}
const {values: {suite, jwt, created}, positionals} = parsed;
if(positionals.length !== 2) {
  usage('UNSIGNED.json and SEED_HEX are required');
}
if(jwt && suite) {
  usage('--jwt and --suite exclude each other');
}
if(created !== undefined && isNaN(new Date(created))) {
  usage(`--created ${created} is not a date`);
}
let unsigned;
try {
  unsigned = JSON.parse(fs.readFileSync(positionals[0], 'utf8'));
} catch(e) {
  usage(`cannot read ${positionals[0]}: ${e.message}`);
}
try {
  const signed = await sign(unsigned, positionals[1], {suite, jwt, created});
  process.stdout.write((typeof signed === 'string' ? signed : JSON.stringify(signed, null, 2)) + '\n');
} catch(e) {
  process.stderr.write(`sign.mjs: not signed: ${e.message}\n`);
  process.exitCode = 1;
}
