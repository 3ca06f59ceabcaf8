// envelope.js — CloudTab end-to-end envelope for the upload page (docs/envelope.md).
// ES module, WebCrypto only, no dependencies, no eval: safe under a strict CSP.
//
// Exports (all byte values are Uint8Array):
//   RECORD_SIZE (65536), TAG_SIZE (16), SEALED_RECORD_SIZE, SLICE_SIZE (4 MiB)
//   EnvelopeError                    Error with .code: "key" | "manifest" | "tampered" |
//                                    "truncated" | "trailing" | "digest"
//   b64urlEncode(bytes) -> string    b64urlDecode(string) -> bytes (strict, unpadded)
//   parsePublicKey(text) -> Promise<bytes(65)>     validates the P-256 point
//   encodePublicKey(bytes(65)) -> string
//   fingerprint(publicKeyBytes) -> Promise<bytes(32)>         SHA-256 of the 65 bytes
//   fingerprintDisplay(publicKeyBytes) -> Promise<"XXXX-XXXX-XXXX-XXXX">
//   newContentKey() -> bytes(32)                              random K
//   OPTION_WORDS, DEFAULT_OPTIONS    the option vocabulary (color, sides, media,
//                                    pages_per_sheet, orientation; photo_fit, photo_size,
//                                    photos_per_sheet optional), as kiosk/core/options.py
//   pageRangesOk(text) -> bool       "" or a canonical range list like "1-3,5"
//   manifestObject({contentKey, customer:{name,note},
//                   files:[{name,type,size,sha256,copies=1,page_ranges=""}],
//                   options:{color,sides,media,pages_per_sheet,orientation,
//                            photo_fit?,photo_size?,photos_per_sheet?}, replyKey=null})
//       -> plain format-2 object in spec order (docs/envelope.md §4)
//   encodeManifest(obj) -> bytes     validated UTF-8 JSON (same bytes as the Python side)
//   sealManifest(publicKeyBytes, jobId, manifestObj, {ephemeral?}) -> Promise<bytes>  enc||ct
//   openManifest(recipient, jobId, sealed) -> Promise<object>   recipient: see hpke.js;
//       opens single-recipient (§5) and multi-recipient (§5.2) sealed manifests
//   sealManifestMulti([publicKeyBytes...], jobId, manifestObj, {manifestKey?, ephemerals?})
//       -> Promise<bytes>  one job for several kiosks (§5.2); keys MUST be ones the page authenticated
//   manifestRecipients(sealed) -> [bytes(32)]   fingerprints named by a multi-recipient manifest
//   isMultiRecipient(sealed) -> bool
//   newReplyKey() -> Promise<{privateKey: CryptoKey, publicKey: bytes(65)}>
//   sealReply(replyPublicKeyBytes, jobId, bytes, {ephemeral?}) -> Promise<bytes>   enc||ct
//   openReply(replyKeyPair, jobId, sealed) -> Promise<bytes>   (docs/envelope.md §5.1)
//   deriveFileKey(K, index) -> Promise<CryptoKey>   (AES-GCM, encrypt+decrypt)
//   deriveFileKeyBytes(K, index) -> Promise<bytes(32)>          (tests, vectors)
//   recordCount(n), ciphertextSize(n), ciphertextOffset(recordIndex)
//   sealRecord(key, index, final, plaintext) / openRecord(key, index, final, sealed) -> Promise<bytes>
//   encryptFile(blob, key, {startRecord=0, sliceSize=SLICE_SIZE}) -> async generator of
//       {record, records, offset, bytes, last}: `bytes` = sealed records
//       [record, record+records), to be written at ciphertext byte `offset`. Start at
//       startRecord n to resume an interrupted upload at ciphertextOffset(n) without
//       re-encrypting earlier records. Memory: about two slices.
//   sealBytes(key, bytes) -> Promise<bytes>              whole file (tests, small files)
//   openBytes(key, sealed, {size?, sha256?}) -> Promise<bytes>  plaintext only if all checks pass
//   sha256Hex(blobOrBytes, {sliceSize=SLICE_SIZE, signal?}) -> Promise<string>
//       lowercase hex of the file digest; a Blob/File is streamed in slices through the
//       incremental Sha256 (sha256.js), so memory stays at about two slices whatever the
//       file size. Rejects with the signal's reason (AbortError) when aborted.
//
// Typical upload: K = newContentKey(); digests = sha256Hex(file) for each file, before
// uploading (a resumed upload starts mid-file and never sees the earlier plaintext);
// for each file i: key = await deriveFileKey(K, i);
// for await (const c of encryptFile(file, key)) upload(c.offset, c.bytes); then
// sealManifest(shopKey, jobId, manifestObject({...})) and submit.

import { generateKeyPair, openBase, sealBase, HpkeError } from "./hpke.js";
import { Sha256 } from "./sha256.js";

const subtle = globalThis.crypto.subtle;
const te = new TextEncoder();

export const RECORD_SIZE = 65536;
export const TAG_SIZE = 16;
export const SEALED_RECORD_SIZE = RECORD_SIZE + TAG_SIZE;
export const SLICE_SIZE = 4 * 1024 * 1024;
const JOB_INFO = "cloudtab/v1 job:";
const REPLY_INFO = "cloudtab/v2 reply:";
const FILE_INFO = "cloudtab/v1 file:";
const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export class EnvelopeError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "EnvelopeError";
    this.code = code;
  }
}

export function b64urlEncode(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(s).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

export function b64urlDecode(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
    throw new EnvelopeError("key", "not unpadded base64url");
  }
  const s = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  if (b64urlEncode(out) !== text) throw new EnvelopeError("key", "non-canonical base64url");
  return out;
}

export async function parsePublicKey(text) {
  const bytes = b64urlDecode(String(text).trim());
  if (bytes.length !== 65 || bytes[0] !== 4) {
    throw new EnvelopeError("key", "public key must be a 65-byte uncompressed P-256 point");
  }
  try {
    await subtle.importKey("raw", bytes, { name: "ECDH", namedCurve: "P-256" }, false, []);
  } catch {
    throw new EnvelopeError("key", "public key is not a point on P-256");
  }
  return bytes;
}

export function encodePublicKey(bytes) {
  return b64urlEncode(bytes);
}

export async function fingerprint(publicKeyBytes) {
  return new Uint8Array(await subtle.digest("SHA-256", publicKeyBytes));
}

function crockford(bytes) {
  let out = "";
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(acc >> (bits - 5)) & 31];
      bits -= 5;
    }
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out += CROCKFORD[(acc << (5 - bits)) & 31];
  return out;
}

export async function fingerprintDisplay(publicKeyBytes) {
  const text = crockford((await fingerprint(publicKeyBytes)).subarray(0, 10));
  return text.match(/.{4}/g).join("-");
}

export function newContentKey() {
  return globalThis.crypto.getRandomValues(new Uint8Array(32));
}

// ---- manifest ------------------------------------------------------------

const LIMITS = { files: 100, copies: 999, name: 200, note: 2000, fileName: 255, jobId: 128, reply: 65536 };
const MEDIA = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}$/;
const PAGES = /^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?(,[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?)*$/;
// The one option vocabulary (docs/envelope.md §4, kiosk/core/options.py).
export const OPTION_WORDS = Object.freeze({
  color: ["monochrome", "color"],
  sides: ["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
  media: ["A4", "Letter", "A3", "Legal"],
  pages_per_sheet: [1, 2, 4],
  orientation: ["portrait", "landscape"],
  // photos only; written only when not the first (default) word, like envelope/manifest.py
  photo_fit: ["fit", "fill"],
  photo_size: ["page", "10x15", "4x6"],
  photos_per_sheet: [1, 2, 4],
});
export const DEFAULT_OPTIONS = Object.freeze({
  color: "monochrome", sides: "one-sided", media: "A4", pages_per_sheet: 1, orientation: "portrait",
});
const PHOTO_OPTIONS = ["photo_fit", "photo_size", "photos_per_sheet"];

function bad(message) {
  throw new EnvelopeError("manifest", message);
}
function str(obj, key, where, limit) {
  const v = obj[key];
  if (typeof v !== "string") bad(`${where}: '${key}' must be a string`);
  if (v.length > limit) bad(`${where}: '${key}' longer than ${limit} characters`);
  return v;
}
function int(obj, key, where, lo, hi) {
  const v = obj[key];
  if (!Number.isSafeInteger(v) || v < lo || v > hi) bad(`${where}: '${key}' must be an integer ${lo}..${hi}`);
  return v;
}
function oneOf(obj, key, where, allowed) {
  const v = obj[key];
  if (!allowed.includes(v)) bad(`${where}: '${key}' must be one of ${allowed.join(", ")}`);
  return v;
}
// True for "" (all pages) or a canonical range list "1-3,5" (no spaces, M >= N).
export function pageRangesOk(p) {
  if (p === "") return true;
  if (typeof p !== "string" || p.length > 200 || !PAGES.test(p)) return false;
  return p.split(",").every((part) => {
    const [lo, hi] = part.split("-");
    return hi === undefined || Number(hi) >= Number(lo);
  });
}

// A format-2 manifest object in spec key order. files[i] may carry copies (default 1) and
// page_ranges (default ""); options default to DEFAULT_OPTIONS; replyKey is the page's
// 65-byte P-256 public key for sealed replies (omitted when null).
export function manifestObject({ contentKey, customer = {}, files, options = {}, replyKey = null }) {
  const m = {
    v: 2,
    k: b64urlEncode(contentKey),
    customer: { name: customer.name ?? "", note: customer.note ?? "" },
    files: files.map((f) => ({
      name: f.name, type: f.type || "application/octet-stream", size: f.size, sha256: f.sha256,
      copies: f.copies ?? 1, page_ranges: f.page_ranges ?? "",
    })),
    options: { ...DEFAULT_OPTIONS, ...options },
  };
  if (replyKey !== null) m.reply = b64urlEncode(replyKey);
  return validateManifest(m);
}

// Checks a format-2 manifest object and returns a copy in spec key order (unknown keys dropped).
export function validateManifest(m) {
  if (!m || typeof m !== "object" || Array.isArray(m)) bad("manifest must be a JSON object");
  if (m.v !== 2) bad("unsupported manifest version");
  let key;
  try {
    key = b64urlDecode(m.k);
  } catch {
    bad("manifest: 'k' is not base64url");
  }
  if (key.length !== 32) bad("manifest: 'k' must be 32 bytes");
  const c = m.customer;
  if (!c || typeof c !== "object") bad("manifest: missing 'customer'");
  if (!Array.isArray(m.files) || m.files.length < 1 || m.files.length > LIMITS.files) bad("manifest: 1..100 files required");
  const files = m.files.map((f, i) => {
    const where = `files[${i}]`;
    if (!f || typeof f !== "object") bad(`${where}: must be an object`);
    const type = str(f, "type", where, 127);
    if (!MEDIA.test(type)) bad(`${where}: 'type' is not a media type`);
    const sha256 = str(f, "sha256", where, 64);
    if (!/^[0-9a-f]{64}$/.test(sha256)) bad(`${where}: 'sha256' must be 64 lowercase hex digits`);
    const name = str(f, "name", where, LIMITS.fileName);
    const size = int(f, "size", where, 0, 2 ** 40);
    const copies = int(f, "copies", where, 1, LIMITS.copies);
    const pageRanges = str(f, "page_ranges", where, 200);
    if (!pageRangesOk(pageRanges)) bad(`${where}: 'page_ranges' must be '' or a range list like '1-3,5'`);
    return { name, type, size, sha256, copies, page_ranges: pageRanges };
  });
  const o = m.options;
  if (!o || typeof o !== "object") bad("manifest: missing 'options'");
  const out = {
    v: 2,
    k: m.k,
    customer: { name: str(c, "name", "customer", LIMITS.name), note: str(c, "note", "customer", LIMITS.note) },
    files,
    options: {
      color: oneOf(o, "color", "options", OPTION_WORDS.color),
      sides: oneOf(o, "sides", "options", OPTION_WORDS.sides),
      media: oneOf(o, "media", "options", OPTION_WORDS.media),
      pages_per_sheet: oneOf(o, "pages_per_sheet", "options", OPTION_WORDS.pages_per_sheet),
      orientation: oneOf(o, "orientation", "options", OPTION_WORDS.orientation),
    },
  };
  for (const word of PHOTO_OPTIONS) {
    if (o[word] === undefined) continue;
    const value = oneOf(o, word, "options", OPTION_WORDS[word]);
    if (value !== OPTION_WORDS[word][0]) out.options[word] = value;
  }
  if (m.reply !== undefined) {
    let reply;
    try {
      reply = b64urlDecode(m.reply);
    } catch {
      bad("manifest: 'reply' is not base64url");
    }
    if (reply.length !== 65 || reply[0] !== 4) bad("manifest: 'reply' is not a P-256 public key");
    out.reply = m.reply;
  }
  return out;
}

export function encodeManifest(obj) {
  return te.encode(JSON.stringify(validateManifest(obj)));
}

function checkJobId(jobId) {
  if (typeof jobId !== "string" || jobId.length < 1 || jobId.length > LIMITS.jobId || /[\x00-\x1f\x7f]/.test(jobId)) {
    throw new EnvelopeError("manifest", "job id must be 1..128 characters without control characters");
  }
  return jobId;
}
function jobInfo(jobId) {
  return te.encode(JOB_INFO + checkJobId(jobId));
}
function replyInfo(jobId) {
  return te.encode(REPLY_INFO + checkJobId(jobId));
}

export async function sealManifest(publicKeyBytes, jobId, manifestObj, { ephemeral = null } = {}) {
  const info = jobInfo(jobId);
  const plaintext = encodeManifest(manifestObj);
  try {
    return await sealBase({ publicKey: publicKeyBytes, info, plaintext, ephemeral });
  } catch (e) {
    if (e instanceof HpkeError) throw new EnvelopeError("key", e.message);
    throw e;
  }
}

// ---- multi-recipient sealed manifest (docs/envelope.md §5.2) ------------------------------

const MULTI_MAGIC = [0x43, 0x54, 0x4d, 0x52]; // "CTMR"
const MULTI_VERSION = 1;
// The most keys one sealed manifest names, and so the most kiosks of a key set (keyset.js).
export const MAX_RECIPIENTS = 16;
const WRAPPED_SIZE = 65 + 32 + 16;
const ENTRY_SIZE = 32 + WRAPPED_SIZE;
const RECIPIENT_INFO = "cloudtab/v3 recipient:";
const ZERO_NONCE = new Uint8Array(12);

function recipientInfo(jobId) {
  return te.encode(RECIPIENT_INFO + checkJobId(jobId));
}

export function isMultiRecipient(sealed) {
  return sealed.length >= 4 && MULTI_MAGIC.every((b, i) => sealed[i] === b);
}

// Seals the manifest once under a fresh manifest key M (AES-256-GCM, aad = header) and wraps M
// to every key with HPKE; each entry names the key's fingerprint. publicKeys: the 65-byte points
// the page has AUTHENTICATED (pinned in the QR or confirmed by the customer), 1..16, no repeats.
// manifestKey / ephemerals (one per key) are for the test vectors only.
export async function sealManifestMulti(publicKeys, jobId, manifestObj, { manifestKey = null, ephemerals = null } = {}) {
  if (!Array.isArray(publicKeys) || publicKeys.length < 1 || publicKeys.length > MAX_RECIPIENTS) {
    throw new EnvelopeError("key", `a sealed manifest has 1..${MAX_RECIPIENTS} recipients`);
  }
  const info = recipientInfo(jobId);
  const plaintext = encodeManifest(manifestObj);
  const mKey = manifestKey || globalThis.crypto.getRandomValues(new Uint8Array(32));
  const prints = await Promise.all(publicKeys.map((k) => fingerprint(k)));
  if (new Set(prints.map((p) => b64urlEncode(p))).size !== prints.length) {
    throw new EnvelopeError("key", "a recipient key is listed twice");
  }
  const header = new Uint8Array(6 + publicKeys.length * ENTRY_SIZE);
  header.set([...MULTI_MAGIC, MULTI_VERSION, publicKeys.length]);
  for (let i = 0; i < publicKeys.length; i++) {
    let wrapped;
    try {
      wrapped = await sealBase({ publicKey: publicKeys[i], info, plaintext: mKey, ephemeral: ephemerals ? ephemerals[i] : null });
    } catch (e) {
      if (e instanceof HpkeError) throw new EnvelopeError("key", e.message);
      throw e;
    }
    header.set(prints[i], 6 + i * ENTRY_SIZE);
    header.set(wrapped, 6 + i * ENTRY_SIZE + 32);
  }
  const aes = await subtle.importKey("raw", mKey, "AES-GCM", false, ["encrypt"]);
  const body = new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: ZERO_NONCE, additionalData: header }, aes, plaintext));
  const out = new Uint8Array(header.length + body.length);
  out.set(header);
  out.set(body, header.length);
  return out;
}

// The fingerprints (bytes(32) each) a multi-recipient sealed manifest names, in order.
export function manifestRecipients(sealed) {
  const fail = () => {
    throw new EnvelopeError("key", "not a multi-recipient sealed manifest this page understands");
  };
  if (!isMultiRecipient(sealed) || sealed.length < 6 || sealed[4] !== MULTI_VERSION) fail();
  const count = sealed[5];
  if (count < 1 || count > MAX_RECIPIENTS || sealed.length < 6 + count * ENTRY_SIZE + 16) fail();
  const prints = [];
  for (let i = 0; i < count; i++) prints.push(sealed.slice(6 + i * ENTRY_SIZE, 6 + i * ENTRY_SIZE + 32));
  if (new Set(prints.map((p) => b64urlEncode(p))).size !== count) fail();
  return prints;
}

async function openMultiBytes(recipient, jobId, sealed) {
  const info = recipientInfo(jobId);
  const prints = manifestRecipients(sealed).map((p) => b64urlEncode(p));
  const index = prints.indexOf(b64urlEncode(await fingerprint(recipient.publicKey)));
  if (index < 0) throw new EnvelopeError("key", "the manifest is not sealed to this key");
  const at = 6 + index * ENTRY_SIZE + 32;
  const end = 6 + prints.length * ENTRY_SIZE;
  try {
    const mKey = await openBase({ recipient, info, sealed: sealed.subarray(at, at + WRAPPED_SIZE) });
    const aes = await subtle.importKey("raw", mKey, "AES-GCM", false, ["decrypt"]);
    return new Uint8Array(
      await subtle.decrypt({ name: "AES-GCM", iv: ZERO_NONCE, additionalData: sealed.subarray(0, end) }, aes, sealed.subarray(end)),
    );
  } catch {
    throw new EnvelopeError("key", "manifest does not open with this key for this job (wrong key, other job, or altered)");
  }
}

// Opens a single-recipient (§5) or multi-recipient (§5.2) sealed manifest.
export async function openManifest(recipient, jobId, sealed) {
  const info = jobInfo(jobId);
  let plaintext;
  if (isMultiRecipient(sealed)) {
    plaintext = await openMultiBytes(recipient, jobId, sealed);
  } else {
    try {
      plaintext = await openBase({ recipient, info, sealed });
    } catch {
      throw new EnvelopeError("key", "manifest does not open with this key for this job (wrong key, other job, or altered)");
    }
  }
  let obj;
  try {
    obj = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plaintext));
  } catch {
    bad("manifest is not UTF-8 JSON");
  }
  return validateManifest(obj);
}

// ---- replies (kiosk -> page) ------------------------------------------------

// A fresh reply key pair for one job: put .publicKey in manifestObject({replyKey}) and keep
// the pair (e.g. in IndexedDB; the private CryptoKey is not extractable) to open replies.
export async function newReplyKey() {
  return generateKeyPair();
}

// What the kiosk does (tests, and any JS sender): HPKE-seal bytes to a reply public key.
export async function sealReply(replyPublicKeyBytes, jobId, plaintext, { ephemeral = null } = {}) {
  const info = replyInfo(jobId);
  if (plaintext.length > LIMITS.reply) throw new EnvelopeError("manifest", "reply too large");
  try {
    return await sealBase({ publicKey: replyPublicKeyBytes, info, plaintext, ephemeral });
  } catch (e) {
    if (e instanceof HpkeError) throw new EnvelopeError("key", e.message);
    throw e;
  }
}

// Opens a sealed reply with the page's reply key pair ({privateKey, publicKey}); bytes out.
export async function openReply(recipient, jobId, sealed) {
  const info = replyInfo(jobId);
  try {
    return await openBase({ recipient, info, sealed });
  } catch {
    throw new EnvelopeError("key", "reply does not open with this key for this job");
  }
}

// ---- file records ----------------------------------------------------------

export async function deriveFileKeyBytes(contentKey, index) {
  if (!(contentKey instanceof Uint8Array) || contentKey.length !== 32) throw new EnvelopeError("key", "content key must be 32 bytes");
  if (!Number.isSafeInteger(index) || index < 0) throw new EnvelopeError("key", "file index must be >= 0");
  const ikm = await subtle.importKey("raw", contentKey, "HKDF", false, ["deriveBits"]);
  const bits = await subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: new Uint8Array(0), info: te.encode(FILE_INFO + String(index)) }, ikm, 256);
  return new Uint8Array(bits);
}

export async function deriveFileKey(contentKey, index) {
  const raw = await deriveFileKeyBytes(contentKey, index);
  return subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
}

export function recordCount(size) {
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError("size must be a non-negative integer");
  return Math.max(1, Math.ceil(size / RECORD_SIZE));
}
export function ciphertextSize(size) {
  return size + TAG_SIZE * recordCount(size);
}
export function ciphertextOffset(recordIndex) {
  return recordIndex * SEALED_RECORD_SIZE;
}

function nonce(index, final) {
  const n = new Uint8Array(12);
  let v = index;
  for (let i = 10; i >= 0 && v > 0; i--) {
    n[i] = v % 256;
    v = Math.floor(v / 256);
  }
  n[11] = final ? 1 : 0;
  return n;
}

export async function sealRecord(key, index, final, plaintext) {
  return new Uint8Array(await subtle.encrypt({ name: "AES-GCM", iv: nonce(index, final) }, key, plaintext));
}

async function tryOpen(key, index, final, sealed) {
  try {
    return new Uint8Array(await subtle.decrypt({ name: "AES-GCM", iv: nonce(index, final) }, key, sealed));
  } catch {
    return null;
  }
}

export async function openRecord(key, index, final, sealed) {
  const plain = await tryOpen(key, index, final, sealed);
  if (plain) return plain;
  if (await tryOpen(key, index, !final, sealed)) {
    if (final) throw new EnvelopeError("truncated", `stream ends after record ${index}, which is not final`);
    throw new EnvelopeError("trailing", `data follows the final record ${index}`);
  }
  throw new EnvelopeError("tampered", `record ${index} failed authentication`);
}

async function sealSlice(key, buffer, firstRecord, lastRecord) {
  const jobs = [];
  for (let at = 0, r = firstRecord; at < buffer.length || jobs.length === 0; at += RECORD_SIZE, r++) {
    jobs.push(sealRecord(key, r, r === lastRecord, buffer.subarray(at, at + RECORD_SIZE)));
  }
  const sealed = await Promise.all(jobs);
  const out = new Uint8Array(sealed.reduce((n, s) => n + s.length, 0));
  let at = 0;
  for (const s of sealed) {
    out.set(s, at);
    at += s.length;
  }
  return { bytes: out, records: sealed.length };
}

export async function* encryptFile(blob, key, { startRecord = 0, sliceSize = SLICE_SIZE } = {}) {
  if (!(blob instanceof Blob)) blob = new Blob([blob]);
  const size = blob.size;
  const count = recordCount(size);
  const perSlice = Math.max(1, Math.floor(sliceSize / RECORD_SIZE));
  if (!Number.isSafeInteger(startRecord) || startRecord < 0 || startRecord >= count) {
    throw new RangeError(`startRecord must be 0..${count - 1}`);
  }
  const read = (first) => {
    const from = first * RECORD_SIZE;
    return blob.slice(from, Math.min(size, from + perSlice * RECORD_SIZE)).arrayBuffer();
  };
  let next = read(startRecord);
  for (let record = startRecord; record < count; record += perSlice) {
    const buffer = new Uint8Array(await next);
    // Read the following slice while this one is encrypted.
    if (record + perSlice < count) next = read(record + perSlice);
    const { bytes, records } = await sealSlice(key, buffer, record, count - 1);
    yield { record, records, offset: ciphertextOffset(record), bytes, last: record + records >= count };
  }
}

export async function sealBytes(key, bytes) {
  const parts = [];
  for await (const chunk of encryptFile(new Blob([bytes]), key)) parts.push(chunk.bytes);
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export async function openBytes(key, sealed, { size = null, sha256 = null } = {}) {
  const parts = [];
  let total = 0;
  for (let index = 0, at = 0; ; index++, at += SEALED_RECORD_SIZE) {
    const chunk = sealed.subarray(at, at + SEALED_RECORD_SIZE);
    if (chunk.length < TAG_SIZE) throw new EnvelopeError("truncated", `record ${index} is shorter than its tag`);
    const final = at + SEALED_RECORD_SIZE >= sealed.length;
    const plain = await openRecord(key, index, final, chunk);
    if (final && plain.length === 0 && index > 0) throw new EnvelopeError("tampered", `empty final record ${index} after a non-empty file`);
    parts.push(plain);
    total += plain.length;
    if (final) break;
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  if (size !== null && total !== size) throw new EnvelopeError("digest", "file size differs from the manifest");
  if (sha256 !== null && (await sha256Hex(out)) !== sha256) throw new EnvelopeError("digest", "file SHA-256 differs from the manifest");
  return out;
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// Bytes already in memory go to WebCrypto in one shot. A Blob/File is read in slices of
// sliceSize (the next slice is read while this one is hashed) and fed to the incremental
// hasher, so a 1 GB file costs about two slices of memory, never the whole file.
export async function sha256Hex(data, { sliceSize = SLICE_SIZE, signal = null } = {}) {
  if (!(data instanceof Blob)) return toHex(new Uint8Array(await subtle.digest("SHA-256", data)));
  if (!Number.isSafeInteger(sliceSize) || sliceSize < 1) throw new RangeError("sliceSize must be a positive integer");
  const size = data.size;
  const hasher = new Sha256();
  const read = (from) => data.slice(from, Math.min(size, from + sliceSize)).arrayBuffer();
  let next = size > 0 ? read(0) : null;
  for (let at = 0; at < size; at += sliceSize) {
    const buffer = await next;
    if (signal) signal.throwIfAborted();
    next = at + sliceSize < size ? read(at + sliceSize) : null;
    hasher.update(new Uint8Array(buffer));
  }
  return toHex(hasher.digest());
}
