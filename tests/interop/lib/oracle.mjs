// Signing and verification delegated to Digital Bazaar's libraries (jose for
// VC-JWT): the independent implementation Badgesmith's tests compare against.
// Verification returns {verified, format, errors, warnings}; it never throws.
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {Ed25519Signature2020} from '@digitalbazaar/ed25519-signature-2020';
import {Ed25519VerificationKey2020} from '@digitalbazaar/ed25519-verification-key-2020';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import * as jose from 'jose';
import jsonld from 'jsonld';
import {offlineLoader} from './loader.mjs';

const CLOCK_SKEW_S = 300; // @digitalbazaar/vc's default
const SELF = 'did:key:SELF'; // an issuer id sign() replaces by the signing key's DID

// ------------------------------------------------------------------- keys

/** The Ed25519 key of a 32-byte seed (64 hex digits) as did:key. */
export async function keyFromSeed(seedHex) {
  if(!/^[0-9a-f]{64}$/i.test(seedHex)) {
    throw new TypeError('The seed must be 64 hex digits.');
  }
  const seed = Uint8Array.from(Buffer.from(seedHex, 'hex'));
  const {publicKeyMultibase} = await Ed25519Multikey.generate({seed});
  const did = `did:key:${publicKeyMultibase}`;
  const id = `${did}#${publicKeyMultibase}`;
  const multikey = await Ed25519Multikey.generate({seed, id, controller: did});
  const x = Buffer.from(multikey.publicKey).toString('base64url');
  return {seed, did, id, multikey,
    privateJwk: {kty: 'OKP', crv: 'Ed25519', x, d: Buffer.from(seed).toString('base64url')}};
}

const issuerId = credential => typeof credential.issuer === 'string' ? credential.issuer : credential.issuer?.id;
const subjectId = credential => [].concat(credential.credentialSubject ?? [])[0]?.id;
const seconds = date => Math.floor(new Date(date).getTime() / 1000);

// ---------------------------------------------------------------- signing

/** A signed copy of `unsigned` (suite 'eddsa-rdfc-2022' or 'ed25519-2020'), or a compact VC-JWT. */
export async function sign(unsigned, seedHex, {suite = 'eddsa-rdfc-2022', jwt = false, created} = {}) {
  const key = await keyFromSeed(seedHex);
  const documentLoader = offlineLoader();
  const credential = structuredClone(unsigned);
  if(credential.issuer === SELF) {
    credential.issuer = key.did;
  } else if(credential.issuer?.id === SELF) {
    credential.issuer.id = key.did;
  }
  if(jwt) {
    vc._checkCredential({credential, mode: 'issue'});
    await jsonld.expand(credential, {documentLoader, safe: true});
    // OB 3.0 §8.2: the payload is the credential plus the registered claims.
    const claims = {iss: issuerId(credential), jti: credential.id, sub: subjectId(credential),
      nbf: credential.validFrom && seconds(credential.validFrom),
      exp: credential.validUntil && seconds(credential.validUntil)};
    const payload = {...credential, ...Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined))};
    return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({alg: 'EdDSA', kid: key.id, typ: 'JWT'})
      .sign(await jose.importJWK(key.privateJwk, 'EdDSA'));
  }
  let proof;
  if(suite === 'eddsa-rdfc-2022') {
    proof = new DataIntegrityProof({signer: key.multikey.signer(), cryptosuite: eddsaRdfc2022, date: created});
  } else if(suite === 'ed25519-2020') {
    const legacy = await Ed25519VerificationKey2020.generate({seed: key.seed, id: key.id, controller: key.did});
    proof = new Ed25519Signature2020({key: legacy, date: created});
  } else {
    throw new TypeError(`Unknown suite "${suite}".`);
  }
  return vc.issue({credential, suite: proof, documentLoader});
}

// ----------------------------------------------------------- verification

// Every message in an error and the errors it wraps, once each.
function messages(error, out = new Set()) {
  if(!error || typeof error !== 'object' && typeof error !== 'string') {
    return out;
  }
  if(Array.isArray(error)) {
    error.forEach(e => messages(e, out));
    return out;
  }
  const nested = [error.errors, error.cause, error.details?.cause].flat().filter(Boolean);
  const text = error.message ?? String(error);
  if(!(nested.length && /^Verification error\(s\)\.?$/.test(text))) {
    const event = error.details?.event;
    out.add(event?.code ? `${text} (${event.code}: ${JSON.stringify(event.details)})` : text);
  }
  nested.forEach(e => messages(e, out));
  return out;
}

const verificationSuites = () => [new DataIntegrityProof({cryptosuite: eddsaRdfc2022}), new Ed25519Signature2020()];

// Bitstring Status List entries whose list is in the status index are checked
// (the list's own proof and issuer included); a set revocation or suspension
// bit fails. Entries that cannot be checked offline warn, or fail with requireStatus.
function statusChecker({documentLoader, requireStatus, warnings}) {
  return async function check({credential}) {
    const errors = [];
    const checkable = [];
    for(const entry of [].concat(credential.credentialStatus ?? [])) {
      let problem;
      if(entry?.type !== 'BitstringStatusListEntry') {
        problem = `A credentialStatus of type "${entry?.type}" was not checked.`;
      } else if(!documentLoader.statusLists.has(entry.statusListCredential)) {
        problem = `The status list ${entry.statusListCredential} is not available offline; status not checked.`;
      } else {
        checkable.push(entry);
        continue;
      }
      (requireStatus ? errors : warnings).push(problem);
    }
    if(checkable.length) {
      const result = await checkStatus({credential: {...credential, credentialStatus: checkable},
        documentLoader, suite: verificationSuites(), verifyBitstringStatusListCredential: true,
        verifyMatchingIssuers: true});
      if(!result.verified) {
        errors.push(...messages(result.error));
      }
      for(const {credentialStatus: entry, status} of result.results ?? []) {
        if(status === true && ['revocation', 'suspension'].includes(entry.statusPurpose)) {
          errors.push(`The credential is ${entry.statusPurpose === 'revocation' ? 'revoked' : 'suspended'}: ` +
            `bit ${entry.statusListIndex} is set in ${entry.statusListCredential}.`);
        } else if(status === true) {
          warnings.push(`Status bit ${entry.statusListIndex} ("${entry.statusPurpose}") is set.`);
        }
      }
    }
    if(!errors.length) {
      return {verified: true};
    }
    const error = new Error(errors.join(' '));
    error.errors = errors.map(m => new Error(m));
    return {verified: false, error};
  };
}

function proofFormat(credential) {
  const names = [].concat(credential.proof ?? []).map(p =>
    p?.type === 'DataIntegrityProof' && p.cryptosuite === 'eddsa-rdfc-2022' ? 'di-eddsa-rdfc-2022' :
      p?.type === 'Ed25519Signature2020' ? 'ed25519-2020' : `unsupported:${p?.type}`);
  return [...new Set(names)].join('+') || null;
}

async function verifyEmbedded(credential, {documentLoader, now, requireStatus}) {
  const format = proofFormat(credential);
  const warnings = [];
  if(!credential.proof) {
    return {verified: false, format, errors: ['The credential has no proof.'], warnings};
  }
  const result = await vc.verifyCredential({credential, suite: verificationSuites(), documentLoader, now,
    maxClockSkew: CLOCK_SKEW_S, checkStatus: statusChecker({documentLoader, requireStatus, warnings})});
  const errors = new Set();
  if(!result.verified) {
    messages(result.error, errors);
    for(const r of result.results ?? []) {
      messages(r.error, errors);
      messages(r.purposeResult?.valid === false ? r.purposeResult.error : null, errors);
    }
    messages(result.statusResult?.verified === false ? result.statusResult.error : null, errors);
    if(!errors.size) {
      errors.add('Not verified (the library gave no reason).');
    }
  }
  return {verified: Boolean(result.verified), format, errors: [...errors], warnings};
}

// The public JWK of the JWT's key, and the DID that controls it.
async function jwtKey(header, issuer, documentLoader) {
  if(header.kid) {
    const kid = header.kid.startsWith('#') ? `${issuer}${header.kid}` : header.kid;
    const did = kid.split('#')[0];
    const {document: method} = await documentLoader(kid);
    const {document: controller} = await documentLoader(did);
    const assertion = [].concat(controller.assertionMethod ?? [])
      .map(m => typeof m === 'string' ? m : m.id).map(m => m.startsWith('#') ? `${did}${m}` : m);
    if(!assertion.includes(method.id)) {
      throw new Error(`The key ${kid} is not an assertionMethod of ${did}.`);
    }
    const jwk = method.publicKeyJwk ??
      await Ed25519Multikey.toJwk({keyPair: await Ed25519Multikey.from(method)});
    return {jwk, did};
  }
  if(header.jwk) {
    if(header.jwk.d) {
      throw new Error('The JOSE header carries a private key.');
    }
    if(!issuer?.startsWith('did:key:')) {
      throw new Error('A bare "jwk" can only be bound to a did:key issuer.');
    }
    const {document: method} = await documentLoader(`${issuer}#${issuer.slice('did:key:'.length)}`);
    const own = await Ed25519Multikey.toJwk({keyPair: await Ed25519Multikey.from(method)});
    if(own.x !== header.jwk.x) {
      throw new Error('The JOSE header\'s "jwk" is not the issuer\'s did:key.');
    }
    return {jwk: header.jwk, did: issuer};
  }
  throw new Error('The JOSE header has neither "kid" nor "jwk".');
}

const REGISTERED_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'cnf'];

async function verifyJwt(token, {documentLoader, now, requireStatus}) {
  const format = 'vc-jwt';
  const warnings = [];
  const fail = (...errors) => ({verified: false, format, errors, warnings});
  let header;
  let claimed;
  try {
    [header, claimed] = token.split('.').slice(0, 2)
      .map(part => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  } catch{
    return fail('The JWT header or payload is not base64url JSON.');
  }
  // EdDSA, and the two OB 3.0 §8.2 / 1EdTech validator algorithms; jose pins the key to the alg.
  const ALGS = ['EdDSA', 'Ed25519', 'RS256', 'ES256'];
  if(!ALGS.includes(header.alg)) {
    return fail(`The JWS algorithm "${header.alg}" is refused (EdDSA, RS256 or ES256 only).`);
  }
  let payload;
  let key;
  try {
    key = await jwtKey(header, issuerId(claimed?.vc ?? claimed ?? {}), documentLoader);
    const alg = header.alg === 'Ed25519' ? 'EdDSA' : header.alg;
    const {payload: bytes} = await jose.compactVerify(token, await jose.importJWK(key.jwk, alg),
      {algorithms: ALGS});
    payload = JSON.parse(new TextDecoder().decode(bytes));
  } catch(e) {
    return fail(...messages(e));
  }
  const vc11 = payload.vc && typeof payload.vc === 'object';
  const credential = vc11 ? payload.vc : payload;
  if(vc11) {
    warnings.push('The VC-JWT uses the VC 1.1 "vc" claim.');
  }
  const errors = [];
  const nowS = seconds(now ?? new Date());
  const expect = (ok, message) => ok || errors.push(message);
  expect(payload.iss === issuerId(credential), `"iss" (${payload.iss}) is not the issuer (${issuerId(credential)}).`);
  expect(key.did === issuerId(credential), `The key belongs to ${key.did}, not to the issuer.`);
  expect(credential.id === undefined || payload.jti === credential.id, `"jti" (${payload.jti}) is not the credential id.`);
  expect(payload.sub === subjectId(credential), `"sub" (${payload.sub}) is not credentialSubject.id.`);
  const validFrom = credential.validFrom ?? credential.issuanceDate;
  const validUntil = credential.validUntil ?? credential.expirationDate;
  expect(payload.nbf !== undefined, 'The JWT has no "nbf".');
  expect(validFrom === undefined || payload.nbf === undefined || payload.nbf === seconds(validFrom),
    `"nbf" (${payload.nbf}) is not validFrom (${validFrom}).`);
  expect(payload.nbf === undefined || payload.nbf <= nowS + CLOCK_SKEW_S, 'The JWT is not valid yet.');
  expect(validUntil === undefined || payload.exp === seconds(validUntil),
    `"exp" (${payload.exp}) is not validUntil (${validUntil}).`);
  expect(payload.exp === undefined || payload.exp >= nowS - CLOCK_SKEW_S, 'The JWT has expired.');
  if(credential.proof) {
    warnings.push('A proof inside the VC-JWT was not checked.');
  }
  try {
    vc._checkCredential({credential, now: new Date(nowS * 1000), mode: 'verify', maxClockSkew: CLOCK_SKEW_S});
  } catch(e) {
    errors.push(...messages(e));
  }
  // The same JSON-LD strictness as an embedded proof: pinned contexts, no undefined terms.
  const document = structuredClone(credential);
  for(const claim of vc11 ? ['proof'] : [...REGISTERED_CLAIMS, 'proof']) {
    delete document[claim];
  }
  try {
    await jsonld.expand(document, {documentLoader, safe: true});
  } catch(e) {
    errors.push(...messages(e));
  }
  if(credential.credentialStatus) {
    const status = await statusChecker({documentLoader, requireStatus, warnings})({credential});
    if(!status.verified) {
      errors.push(...messages(status.error.errors));
    }
  }
  return {verified: errors.length === 0, format, errors: [...new Set(errors)], warnings};
}

const COMPACT_JWS = /^[\w-]+\.[\w-]*\.[\w-]*$/;

/** Verify a credential given as text: JSON with an embedded proof, or a compact VC-JWT. */
export async function verify(text, {now, statusDir, didwebDir, requireStatus = false,
  documentLoader = offlineLoader({statusDir, didwebDir})} = {}) {
  const options = {documentLoader, now, requireStatus};
  let value = text.trim();
  if(!COMPACT_JWS.test(value)) {
    try {
      value = JSON.parse(value);
    } catch{
      return {verified: false, format: null, errors: ['Neither JSON nor a compact JWT.'], warnings: []};
    }
  }
  if(typeof value === 'string' && COMPACT_JWS.test(value.trim())) {
    return verifyJwt(value.trim(), options);
  }
  if(!value || typeof value !== 'object' || Array.isArray(value)) {
    return {verified: false, format: null, errors: ['The JSON is not a credential object.'], warnings: []};
  }
  try {
    return await verifyEmbedded(value, options);
  } catch(e) {
    return {verified: false, format: proofFormat(value), errors: [...messages(e)], warnings: []};
  }
}
