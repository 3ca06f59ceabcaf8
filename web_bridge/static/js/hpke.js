// hpke.js — HPKE (RFC 9180) base mode, single shot, WebCrypto only.
// Suite: DHKEM(P-256, HKDF-SHA256) (kem 0x0010), HKDF-SHA256 (kdf 0x0001),
// AES-256-GCM (aead 0x0002, default) or AES-128-GCM (aead 0x0001, for the RFC
// A.3 vectors). No dependencies, no eval; works under a strict CSP.
//
// Exports:
//   KEM_P256 = 0x10, KDF_SHA256 = 1, AEAD_AES128GCM = 1, AEAD_AES256GCM = 2
//   sealBase({publicKey, info, aad?, plaintext, aeadId?, ephemeral?}) -> Promise<Uint8Array enc||ct>
//       publicKey: 65-byte uncompressed point; ephemeral (tests only):
//       {privateKey: CryptoKey, publicKey: Uint8Array(65)}.
//   openBase({recipient, info, aad?, sealed, aeadId?}) -> Promise<Uint8Array>   (throws HpkeError)
//       recipient: {privateKey: CryptoKey, publicKey: Uint8Array(65)} as returned by
//       importRecipientKey or generateKeyPair.
//   setupBaseS(publicKey, info, {aeadId?, ephemeral?}) -> Promise<Context & {enc}>
//   setupBaseR(recipient, enc, info, {aeadId?}) -> Promise<Context>
//       Context: {sharedSecret, keyScheduleContext, secret, key, baseNonce,
//                 seal(seq, aad, pt), open(seq, aad, ct)} (byte fields are Uint8Array).
//   importPrivateKeyScalar(d: Uint8Array(32), publicKey: Uint8Array(65)) -> Promise<CryptoKey>
//   importPrivateKeyPkcs8(bytes) -> Promise<CryptoKey>
//   importRecipientKey({pkcs8? | d?, publicKey}) -> Promise<recipient>
//   generateKeyPair() -> Promise<{privateKey: CryptoKey, publicKey: Uint8Array(65)}>
//   HpkeError (Error subclass)

const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();

export const KEM_P256 = 0x0010;
export const KDF_SHA256 = 0x0001;
export const AEAD_AES128GCM = 0x0001;
export const AEAD_AES256GCM = 0x0002;
const N_SECRET = 32;
const N_ENC = 65;
const N_NONCE = 12;
const N_H = 32;

export class HpkeError extends Error {
  constructor(message) {
    super(message);
    this.name = "HpkeError";
  }
}

function concat(...parts) {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function i2osp(value, length) {
  const out = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = value & 0xff;
    value = Math.floor(value / 256);
  }
  return out;
}

function aeadKeySize(aeadId) {
  if (aeadId === AEAD_AES128GCM) return 16;
  if (aeadId === AEAD_AES256GCM) return 32;
  throw new HpkeError("unsupported AEAD");
}

const KEM_SUITE_ID = concat(te.encode("KEM"), i2osp(KEM_P256, 2));
function hpkeSuiteId(aeadId) {
  return concat(te.encode("HPKE"), i2osp(KEM_P256, 2), i2osp(KDF_SHA256, 2), i2osp(aeadId, 2));
}

async function hmac(keyBytes, data) {
  // HMAC keys are zero-padded to the block size, so an empty salt equals
  // HashLen zero bytes (RFC 5869); WebCrypto refuses zero-length HMAC keys.
  const raw = keyBytes.length ? keyBytes : new Uint8Array(N_H);
  const key = await subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await subtle.sign("HMAC", key, data));
}

async function extract(salt, ikm) {
  return hmac(salt, ikm);
}

async function expand(prk, info, length) {
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let i = 1, at = 0; at < length; i++) {
    previous = await hmac(prk, concat(previous, info, Uint8Array.of(i)));
    out.set(previous.subarray(0, Math.min(previous.length, length - at)), at);
    at += previous.length;
  }
  return out;
}

const V1 = te.encode("HPKE-v1");
function labeledExtract(suiteId, salt, label, ikm) {
  return extract(salt, concat(V1, suiteId, te.encode(label), ikm));
}
function labeledExpand(suiteId, prk, label, info, length) {
  return expand(prk, concat(i2osp(length, 2), V1, suiteId, te.encode(label), info), length);
}

async function importPublic(bytes) {
  if (!(bytes instanceof Uint8Array) || bytes.length !== N_ENC || bytes[0] !== 0x04) {
    throw new HpkeError("public key must be a 65-byte uncompressed P-256 point");
  }
  try {
    return await subtle.importKey("raw", bytes, { name: "ECDH", namedCurve: "P-256" }, true, []);
  } catch {
    throw new HpkeError("public key is not a point on P-256");
  }
}

async function dh(privateKey, publicKey) {
  return new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: publicKey }, privateKey, 256));
}

async function extractAndExpand(dhBytes, kemContext) {
  const eaePrk = await labeledExtract(KEM_SUITE_ID, new Uint8Array(0), "eae_prk", dhBytes);
  return labeledExpand(KEM_SUITE_ID, eaePrk, "shared_secret", kemContext, N_SECRET);
}

export async function generateKeyPair() {
  const pair = await subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"]);
  const publicKey = new Uint8Array(await subtle.exportKey("raw", pair.publicKey));
  return { privateKey: pair.privateKey, publicKey };
}

function b64urlOf(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export async function importPrivateKeyScalar(d, publicKey) {
  const jwk = {
    kty: "EC", crv: "P-256", ext: true, key_ops: ["deriveBits"],
    d: b64urlOf(d), x: b64urlOf(publicKey.subarray(1, 33)), y: b64urlOf(publicKey.subarray(33, 65)),
  };
  return subtle.importKey("jwk", jwk, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
}

export async function importPrivateKeyPkcs8(bytes) {
  return subtle.importKey("pkcs8", bytes, { name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"]);
}

async function keySchedule(sharedSecret, info, aeadId) {
  const suiteId = hpkeSuiteId(aeadId);
  const empty = new Uint8Array(0);
  const pskIdHash = await labeledExtract(suiteId, empty, "psk_id_hash", empty);
  const infoHash = await labeledExtract(suiteId, empty, "info_hash", info);
  const keyScheduleContext = concat(Uint8Array.of(0), pskIdHash, infoHash);
  const secret = await labeledExtract(suiteId, sharedSecret, "secret", empty);
  const key = await labeledExpand(suiteId, secret, "key", keyScheduleContext, aeadKeySize(aeadId));
  const baseNonce = await labeledExpand(suiteId, secret, "base_nonce", keyScheduleContext, N_NONCE);
  const aesKey = await subtle.importKey("raw", key, "AES-GCM", false, ["encrypt", "decrypt"]);
  const nonceFor = (seq) => {
    const nonce = baseNonce.slice();
    const s = i2osp(seq, N_NONCE);
    for (let i = 0; i < N_NONCE; i++) nonce[i] ^= s[i];
    return nonce;
  };
  return {
    sharedSecret, keyScheduleContext, secret, key, baseNonce,
    async seal(seq, aad, plaintext) {
      return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonceFor(seq), additionalData: aad }, aesKey, plaintext));
    },
    async open(seq, aad, ciphertext) {
      try {
        return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonceFor(seq), additionalData: aad }, aesKey, ciphertext));
      } catch {
        throw new HpkeError("HPKE open failed: authentication");
      }
    },
  };
}

export async function setupBaseS(publicKey, info, { aeadId = AEAD_AES256GCM, ephemeral = null } = {}) {
  const pkR = await importPublic(publicKey);
  const eph = ephemeral || (await generateKeyPair());
  const enc = eph.publicKey;
  const sharedSecret = await extractAndExpand(await dh(eph.privateKey, pkR), concat(enc, publicKey));
  const ctx = await keySchedule(sharedSecret, info, aeadId);
  return { ...ctx, enc };
}

export async function setupBaseR(recipient, enc, info, { aeadId = AEAD_AES256GCM } = {}) {
  const pkE = await importPublic(enc);
  const { privateKey, publicKey } = recipient;
  const sharedSecret = await extractAndExpand(await dh(privateKey, pkE), concat(enc, publicKey));
  return keySchedule(sharedSecret, info, aeadId);
}

export async function importRecipientKey({ pkcs8 = null, d = null, publicKey }) {
  await importPublic(publicKey);
  const privateKey = pkcs8 ? await importPrivateKeyPkcs8(pkcs8) : await importPrivateKeyScalar(d, publicKey);
  return { privateKey, publicKey };
}

export async function sealBase({ publicKey, info, aad = new Uint8Array(0), plaintext, aeadId = AEAD_AES256GCM, ephemeral = null }) {
  const ctx = await setupBaseS(publicKey, info, { aeadId, ephemeral });
  return concat(ctx.enc, await ctx.seal(0, aad, plaintext));
}

export async function openBase({ recipient, info, aad = new Uint8Array(0), sealed, aeadId = AEAD_AES256GCM }) {
  if (!(sealed instanceof Uint8Array) || sealed.length < N_ENC + 16) throw new HpkeError("sealed data too short");
  let ctx;
  try {
    ctx = await setupBaseR(recipient, sealed.subarray(0, N_ENC), info, { aeadId });
  } catch (e) {
    if (e instanceof HpkeError) throw e;
    throw new HpkeError("HPKE open failed: " + e.message);
  }
  return ctx.open(0, aad, sealed.subarray(N_ENC));
}
