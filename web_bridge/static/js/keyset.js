// keyset.js — the shop's key set (docs/envelope.md §2.1): every active kiosk's encryption
// key and signing key under one fingerprint, the value the QR fragment #f= pins and the
// words people compare at the counter. Same bytes as envelope/keyset.py.
//
//   keySetBytes([{encryptionKey: bytes(65), signingKey: bytes(65) | empty}]) -> bytes
//   keySetFingerprint(records) -> Promise<bytes(32)>
//   fingerprintText(digest) -> "XXXX-XXXX-XXXX-XXXX"
//   shopKeySet(shop) -> records from the page's shop JSON (kiosk_keys, else public_key)

import { MAX_RECIPIENTS, b64urlDecode } from "./envelope.js";

const DOMAIN = new TextEncoder().encode("cloudtab/v1 keyset");
const KEY_SIZE = 65;
const MAX_KIOSKS = MAX_RECIPIENTS; // the page seals each job to every kiosk of the set
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

function compare(a, b) {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

function pointOk(bytes) {
  return bytes instanceof Uint8Array && bytes.length === KEY_SIZE && bytes[0] === 4;
}

export function keySetBytes(records) {
  const canon = records.map(({ encryptionKey, signingKey }) => {
    if (!pointOk(encryptionKey)) throw new Error("bad encryption key");
    if (signingKey && signingKey.length && !pointOk(signingKey)) throw new Error("bad signing key");
    const out = new Uint8Array(2 * KEY_SIZE);
    out.set(encryptionKey, 0);
    if (signingKey && signingKey.length) out.set(signingKey, KEY_SIZE);
    return out;
  }).sort(compare);
  if (canon.length < 1 || canon.length > MAX_KIOSKS) throw new Error(`a key set has 1 to ${MAX_KIOSKS} kiosks`);
  const seen = new Set(canon.map((c) => c.subarray(0, KEY_SIZE).join(",")));
  if (seen.size !== canon.length) throw new Error("a key set names an encryption key twice");
  const out = new Uint8Array(DOMAIN.length + 1 + canon.length * 2 * KEY_SIZE);
  out.set(DOMAIN, 0);
  out[DOMAIN.length] = canon.length;
  canon.forEach((c, i) => out.set(c, DOMAIN.length + 1 + i * 2 * KEY_SIZE));
  return out;
}

export async function keySetFingerprint(records) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", keySetBytes(records)));
}

export function fingerprintText(digest) {
  let value = 0n;
  for (const b of digest.subarray(0, 10)) value = (value << 8n) | BigInt(b);
  let text = "";
  for (let i = 15; i >= 0; i--) text += CROCKFORD[Number((value >> BigInt(5 * i)) & 31n)];
  return text.match(/.{4}/g).join("-");
}

// The records of a shop as the bridge serves it: kiosk_keys when present (one per
// counter), else the one public key without a signing key (a relay before key sets).
export function shopKeySet(shop) {
  const kiosks = Array.isArray(shop.kiosk_keys) && shop.kiosk_keys.length ? shop.kiosk_keys : null;
  if (!kiosks) return [{ encryptionKey: b64urlDecode(shop.public_key), signingKey: new Uint8Array(0) }];
  return kiosks.map((k) => ({
    encryptionKey: b64urlDecode(k.public_key),
    signingKey: k.signing_key ? b64urlDecode(k.signing_key) : new Uint8Array(0),
  }));
}
