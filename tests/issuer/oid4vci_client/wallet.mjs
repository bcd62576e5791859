// A wallet's side of OpenID4VCI, driven by registry client libraries, for Badgesmith's tests.
//
//   node wallet.mjs '<options as JSON>'
//
// options: {
//   client: "openid4vc" (npm @openid4vc/openid4vci: 1.0, nonce endpoint, `proofs`)
//         | "sphereon"  (npm @sphereon/oid4vci-client: draft 15, a single `proof`),
//   offer: the openid-credential-offer:// link (by value or by reference),
//   txCode: the transaction code, if any,
//   configuration: the credential configuration id to ask for,
//   key: "ed25519" | "p256",  binding: "did" (a did:key kid) | "jwk" (an inline jwk),
//   tamper: null | "other-key" | "wrong-nonce" | "old-iat" | "wrong-aud",
//   repeat: true to ask a second time with the same access token (and a fresh nonce),
// }
// The proof JWT is signed here, with jose, by a key made here; the libraries build the
// requests. Prints one JSON line: {ok, credentials[], holder} or {ok: false, message}; the
// test's server records what went over the wire.

import * as jose from 'jose'
import { Openid4vciClient } from '@openid4vc/openid4vci'
import { clientAuthenticationAnonymous, setGlobalConfig } from '@openid4vc/oauth2'
import { OpenID4VCIClientV1_0_15 } from '@sphereon/oid4vci-client'
import { createHash, randomBytes } from 'node:crypto'

const options = JSON.parse(process.argv[2])
setGlobalConfig({ allowInsecureUrls: true }) // the issuer under test listens on http://127.0.0.1

// -- keys ----------------------------------------------------------------------------------------

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz'
function base58 (bytes) {
  let value = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'))
  let out = ''
  while (value > 0n) { out = B58[Number(value % 58n)] + out; value /= 58n }
  for (const byte of bytes) { if (byte !== 0) break; out = '1' + out }
  return out
}

async function makeKey (kind) {
  const alg = kind === 'p256' ? 'ES256' : 'EdDSA'
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, kind === 'p256' ? {} : { crv: 'Ed25519' })
  const jwk = await jose.exportJWK(publicKey)
  let multikey
  if (kind === 'p256') {
    const x = Buffer.from(jwk.x, 'base64url'); const y = Buffer.from(jwk.y, 'base64url')
    multikey = 'z' + base58(Buffer.concat([Buffer.from([0x80, 0x24, (y[y.length - 1] & 1) ? 3 : 2]), x]))
  } else {
    multikey = 'z' + base58(Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(jwk.x, 'base64url')]))
  }
  const did = 'did:key:' + multikey
  return { alg, jwk, privateKey, did, kid: `${did}#${multikey}` }
}

const key = await makeKey(options.key ?? 'ed25519')
const otherKey = await makeKey(options.key ?? 'ed25519')

// Sign the proof as the library laid it out, with the tampering a test asks for.
async function signProof (header, payload) {
  header = { ...header, alg: key.alg }
  payload = { ...payload }
  if (options.tamper === 'wrong-nonce') payload.nonce = 'a-nonce-this-issuer-never-gave'
  if (options.tamper === 'old-iat') payload.iat = Math.floor(Date.now() / 1000) - 3600
  if (options.tamper === 'wrong-aud') payload.aud = 'https://someone-else.example'
  const signer = options.tamper === 'other-key' ? otherKey.privateKey : key.privateKey
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader(header).sign(signer)
}

function bindingHeader () {
  return options.binding === 'jwk' ? { jwk: key.jwk } : { kid: key.kid }
}

// -- the 1.0 client: @openid4vc/openid4vci --------------------------------------------------------

async function withOpenid4vc () {
  const client = new Openid4vciClient({
    callbacks: {
      hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
      generateRandom: (n) => randomBytes(n),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (signer, { header, payload }) => {
        const jwt = await signProof({ ...header, ...bindingHeader(), ...(options.binding === 'jwk' ? { kid: undefined } : {}) }, payload)
        return { jwt, signerJwk: key.jwk }
      },
    },
  })
  const offer = await client.resolveCredentialOffer(options.offer)
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer)
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode: options.txCode ?? undefined,
  })
  const credentials = []
  for (let round = 0; round < (options.repeat ? 2 : 1); round++) {
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata })
    const signer = options.binding === 'jwk'
      ? { method: 'jwk', publicJwk: key.jwk, alg: key.alg }
      : { method: 'did', didUrl: key.kid, alg: key.alg }
    const { jwt } = await client.createCredentialRequestJwtProof({
      issuerMetadata, signer, nonce, credentialConfigurationId: options.configuration,
    })
    const response = await client.retrieveCredentials({
      issuerMetadata, accessToken: accessTokenResponse.access_token,
      credentialConfigurationId: options.configuration, proofs: { jwt: [jwt] },
    })
    credentials.push(response.credentialResponse.credentials?.[0]?.credential ?? response.credentialResponse.credential)
  }
  return { credentials, version: issuerMetadata.originalDraftVersion }
}

// -- the draft-15 client: @sphereon/oid4vci-client -----------------------------------------------

async function withSphereon () {
  const client = await OpenID4VCIClientV1_0_15.fromURI({
    uri: options.offer, kid: options.binding === 'jwk' ? undefined : key.kid, alg: key.alg,
    retrieveServerMetadata: true, resolveOfferUri: true,
  })
  await client.acquireAccessToken({ pin: options.txCode ?? undefined })
  const credentials = []
  for (let round = 0; round < (options.repeat ? 2 : 1); round++) {
    const response = await client.acquireCredentials({
      credentialConfigurationId: options.configuration,
      format: options.configuration.endsWith('jwt_vc_json') ? 'jwt_vc_json' : 'ldp_vc',
      alg: key.alg,
      ...(options.binding === 'jwk' ? { jwk: key.jwk } : { kid: key.kid }),
      proofCallbacks: {
        signCallback: async (args) => {
          const header = { ...args.header, ...bindingHeader() }
          if (options.binding === 'jwk') delete header.kid
          return signProof(header, args.payload)
        },
      },
    })
    credentials.push(response.credentials?.[0]?.credential ?? response.credential)
  }
  return { credentials, version: 'Draft15' }
}

try {
  const { credentials, version } = options.client === 'sphereon' ? await withSphereon() : await withOpenid4vc()
  console.log(JSON.stringify({ ok: true, credentials, version, holder: key.did }))
} catch (error) {
  console.log(JSON.stringify({ ok: false, message: String(error?.message ?? error).slice(0, 2000), holder: key.did }))
}
