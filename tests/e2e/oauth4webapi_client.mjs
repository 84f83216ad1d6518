// A JavaScript client built with oauth4webapi (npm), as an outside app would use this server:
// private_key_jwt, a pushed authorization request (PAR), DPoP-bound tokens, the code exchange, a
// DPoP call to the bundled API, a refresh and a second call. Driven by tests/e2e/test_oauth4webapi.py:
// it prints {"authorize": URL} (the browser's part, done by the test), reads the callback URL on
// stdin, and prints what it got as one JSON line. Environment: ISSUER, CLIENT_ID, CLIENT_KEY (the
// client's private JWK, with its kid), REDIRECT_URI.
import * as readline from 'node:readline'
import * as oauth from 'oauth4webapi'

const insecure = { [oauth.allowInsecureRequests]: true } // the local stack is plain http on loopback
const issuer = new URL(process.env.ISSUER)
const redirectUri = process.env.REDIRECT_URI
const as = await oauth.processDiscoveryResponse(
  issuer,
  await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
)
const client = { client_id: process.env.CLIENT_ID }
const jwk = JSON.parse(process.env.CLIENT_KEY)
const clientKey = await crypto.subtle.importKey(
  'jwk',
  jwk,
  { name: 'ECDSA', namedCurve: 'P-256' },
  false,
  ['sign'],
)
const clientAuth = oauth.PrivateKeyJwt({ key: clientKey, kid: jwk.kid })
const DPoP = oauth.DPoP(client, await oauth.generateKeyPair('ES256'))
const options = { DPoP, ...insecure }
const nonceRetries = []

// RFC 9449 8: a server that wants nonces answers use_dpop_nonce once; the DPoP handle keeps the
// nonce it was sent, and the same request is made again.
async function withNonce(request, process) {
  try {
    return await process(await request())
  } catch (err) {
    if (!oauth.isDPoPNonceError(err)) throw err
    nonceRetries.push(err.error ?? 'use_dpop_nonce')
    return await process(await request())
  }
}

const codeVerifier = oauth.generateRandomCodeVerifier()
const state = oauth.generateRandomState()
const nonce = oauth.generateRandomNonce()
const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier)
const pushed = await withNonce(
  () =>
    oauth.pushedAuthorizationRequest(
      as,
      client,
      clientAuth,
      {
        response_type: 'code',
        redirect_uri: redirectUri,
        scope: 'openid offline_access read:data',
        code_challenge: codeChallenge,
        code_challenge_method: 'S256',
        state,
        nonce,
      },
      options,
    ),
  (response) => oauth.processPushedAuthorizationResponse(as, client, response),
)
const authorize = new URL(as.authorization_endpoint)
authorize.searchParams.set('client_id', client.client_id)
authorize.searchParams.set('request_uri', pushed.request_uri)
console.log(JSON.stringify({ authorize: authorize.href, expires_in: pushed.expires_in }))

const lines = readline.createInterface({ input: process.stdin })
const callback = await new Promise((resolve) => lines.once('line', resolve))
lines.close()
const callbackParameters = oauth.validateAuthResponse(as, client, new URL(callback), state)
const tokens = await withNonce(
  () =>
    oauth.authorizationCodeGrantRequest(
      as,
      client,
      clientAuth,
      callbackParameters,
      redirectUri,
      codeVerifier,
      options,
    ),
  (response) =>
    oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: nonce,
      requireIdToken: true,
    }),
)

async function callApi(accessToken) {
  const response = await oauth.protectedResourceRequest(
    accessToken,
    'GET',
    new URL(`${issuer.href.replace(/\/$/, '')}/resource`),
    undefined,
    undefined,
    options,
  )
  return { status: response.status, body: await response.json() }
}

const firstCall = await callApi(tokens.access_token)
const refreshed = await withNonce(
  () => oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refresh_token, options),
  (response) => oauth.processRefreshTokenResponse(as, client, response),
)
const secondCall = await callApi(refreshed.access_token)
console.log(
  JSON.stringify({
    token_type: tokens.token_type,
    access_token: tokens.access_token,
    id_token_sub: oauth.getValidatedIdTokenClaims(tokens)?.sub,
    first_call: firstCall,
    refreshed_token_type: refreshed.token_type,
    refreshed_access_token: refreshed.access_token,
    second_call: secondCall,
    rotated: refreshed.refresh_token !== tokens.refresh_token,
    nonce_retries: nonceRetries,
  }),
)
