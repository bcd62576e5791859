#!/usr/bin/env node
// node verify.mjs FILE... [--now ISO] [--status-dir DIR] [--didweb-dir DIR] [--require-status]
// Each FILE is a credential (JSON with a proof, or a compact JWT) or a baked
// PNG/SVG. Prints one JSON line per file: {"file", "verified", "format",
// "errors", "warnings"} (+ "container" for images). Status lists are read from
// DIR/index.json ({url: file}), did:web documents from DIR/<host>/did.json;
// nothing is fetched. Exit 0 all verified, 1 some not, 2 usage.
import fs from 'node:fs';
import path from 'node:path';
import {parseArgs} from 'node:util';
import {offlineLoader} from './lib/loader.mjs';
import {verify} from './lib/oracle.mjs';
import {unbake} from './lib/unbake.mjs';

function usage(problem) {
  process.stderr.write(`verify.mjs: ${problem}\nusage: node verify.mjs FILE... [--now ISO] ` +
    '[--status-dir DIR] [--didweb-dir DIR] [--require-status]\n');
  process.exit(2);
}

let parsed;
try {
  parsed = parseArgs({allowPositionals: true, options: {
    now: {type: 'string'}, 'status-dir': {type: 'string'}, 'didweb-dir': {type: 'string'},
    'require-status': {type: 'boolean'}}});
} catch(e) {
  usage(e.message);
}
const {values, positionals: files} = parsed;
if(!files.length) {
  usage('FILE is required');
}
if(values.now !== undefined && isNaN(new Date(values.now))) {
  usage(`--now ${values.now} is not a date`);
}
const resolve = dir => dir === undefined ? undefined : path.resolve(dir);
const documentLoader = offlineLoader({statusDir: resolve(values['status-dir']),
  didwebDir: resolve(values['didweb-dir'])});
let all = true;
for(const file of files) {
  let data;
  try {
    data = fs.readFileSync(file);
  } catch(e) {
    usage(`cannot read ${file}: ${e.code ?? e.message}`);
  }
  let line;
  try {
    const baked = unbake(data);
    const result = await verify(baked ? baked.text : data.toString('utf8'),
      {documentLoader, now: values.now, requireStatus: Boolean(values['require-status'])});
    line = {file, ...result, ...(baked ? {container: baked.container} : {})};
  } catch(e) {
    line = {file, verified: false, format: null, errors: [e.message], warnings: []};
  }
  all &&= line.verified;
  process.stdout.write(JSON.stringify(line) + '\n');
}
process.exitCode = all ? 0 : 1;
