// receipt.js — receipts signed by the shop's kiosk (docs/envelope.md §2.2). Every state
// the kiosk sets (received, printing, completed, rejected) carries an ECDSA P-256 / SHA-256
// signature (IEEE P1363 r‖s, 64 bytes) over a canonical message; the relay only forwards
// it. The page checks it with WebCrypto against the signing keys of the shop's key set
// it pinned when the job was sent. Same bytes as envelope/receipt.py.
//
//   receiptMessage({jobId, state, reason, signTimeMs, manifestSha256, waitReason, detailSha256}) -> bytes
//   verifyReceipt(signingKey: bytes(65), fields, signature: bytes) -> Promise<bool>
//   parseTime("2026-12-03T14:00:00.123Z") -> milliseconds since the epoch (or null)
//   checkStatement(job, {jobId, manifestSha256, signingKeys}) ->
//       Promise<"confirmed" | "unsigned" | "forged" | "unchecked" | "none">

import { b64urlDecode } from "./envelope.js";

const DOMAIN = new TextEncoder().encode("cloudtab/v1 receipt\u0000");
export const KIOSK_STATES = new Set(["received", "printing", "completed", "rejected"]);
const te = new TextEncoder();

function field(bytes) {
  if (bytes.length > 0xffff) throw new Error("receipt field too long");
  const out = new Uint8Array(2 + bytes.length);
  out[0] = bytes.length >> 8;
  out[1] = bytes.length & 0xff;
  out.set(bytes, 2);
  return out;
}

function concat(parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function receiptMessage({ jobId, state, reason = "", signTimeMs, manifestSha256, waitReason = "", detailSha256 = new Uint8Array(0) }) {
  if (!KIOSK_STATES.has(state)) throw new Error("not a kiosk state");
  if (manifestSha256.length !== 32 || ![0, 32].includes(detailSha256.length)) throw new Error("bad digest");
  const time = new Uint8Array(8);
  new DataView(time.buffer).setBigUint64(0, BigInt(signTimeMs));
  return concat([
    DOMAIN, field(te.encode(jobId)), field(te.encode(state)), field(te.encode(reason)), time,
    manifestSha256, field(te.encode(waitReason)), field(detailSha256),
  ]);
}

export async function verifyReceipt(signingKey, fields, signature) {
  if (!signature || signature.length !== 64 || !signingKey || signingKey.length !== 65) return false;
  try {
    const key = await globalThis.crypto.subtle.importKey(
      "raw", signingKey, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
    return await globalThis.crypto.subtle.verify(
      { name: "ECDSA", hash: "SHA-256" }, key, signature, receiptMessage(fields));
  } catch {
    return false;
  }
}

// RFC 3339 (as protobuf's JSON writes Timestamps) to whole milliseconds; the kiosk
// signs milliseconds, so digits past the third must be zero.
export function parseTime(text) {
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?Z$/.exec(String(text || ""));
  if (!m) return null;
  const fraction = (m[2] || "").padEnd(9, "0");
  if (!/^0*$/.test(fraction.slice(3))) return null;
  const seconds = Date.parse(`${m[1]}Z`);
  return Number.isNaN(seconds) ? null : seconds + Number(fraction.slice(0, 3));
}

async function sha256(bytes) {
  return new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", bytes));
}

// What the page can say about the job's current state: "none" for a state the kiosk does
// not set (queued, cancelled, expired), "unchecked" when this tab has no pinned key set or
// manifest hash, "unsigned" without a signature, "forged" when no kiosk key verifies it.
export async function checkStatement(job, { jobId, manifestSha256, signingKeys }) {
  if (!KIOSK_STATES.has(job.state)) return "none";
  if (!manifestSha256 || !signingKeys || !signingKeys.length) return "unchecked";
  const statement = job.statement || {};
  if (!statement.signature || !statement.sign_time) return "unsigned";
  let signature;
  let detailSha256 = new Uint8Array(0);
  try {
    signature = b64urlDecode(statement.signature);
    if (statement.sealed_detail) detailSha256 = await sha256(b64urlDecode(statement.sealed_detail));
  } catch {
    return "forged";
  }
  const signTimeMs = parseTime(statement.sign_time);
  if (signTimeMs === null) return "forged";
  const fields = {
    jobId, state: job.state, reason: job.state === "rejected" ? job.reason || "" : "", signTimeMs,
    manifestSha256, waitReason: statement.wait_reason || "", detailSha256,
  };
  for (const key of signingKeys) {
    if (await verifyReceipt(key, fields, signature)) return "confirmed";
  }
  return "forged";
}

// --- the status view's receipt line --------------------------------------------------

const pinned = new Map();

// The signing keys a job's receipts are checked against: those stored when this tab sent
// it, else (a status link opened elsewhere) the shop's current key set if its fingerprint
// is the link's f. Empty when nothing pins a key set (old #k= poster, rotated keys).
async function signingKeysOf(record, fetchShop) {
  if (Array.isArray(record.signingKeys)) return record.signingKeys.map(b64urlDecode);
  if (!record.setParam || !record.slug) return [];
  if (!pinned.has(record.jobId)) {
    pinned.set(record.jobId, (async () => {
      const { keySetFingerprint, shopKeySet } = await import("./keyset.js");
      const shop = await fetchShop(record.slug);
      const records = shopKeySet(shop);
      const digest = await keySetFingerprint(records);
      const want = b64urlDecode(record.setParam);
      if (digest.length !== want.length || digest.some((b, i) => b !== want[i])) return [];
      return records.map((r) => r.signingKey).filter((k) => k.length);
    })().catch(() => []));
  }
  return pinned.get(record.jobId);
}

// Checks the job's current state and writes the verdict into `element` (data-receipt
// holds the verdict for tests and styles). Returns the verdict.
export async function showReceipt(element, job, record, { fetchShop, translate }) {
  let verdict = "none";
  if (KIOSK_STATES.has(job.state)) {
    let manifestSha256 = null;
    try {
      manifestSha256 = record.manifestHash ? b64urlDecode(record.manifestHash) : null;
    } catch {
      manifestSha256 = null;
    }
    const signingKeys = await signingKeysOf(record, fetchShop);
    verdict = await checkStatement(job, { jobId: record.jobId, manifestSha256, signingKeys });
  }
  const _ = translate;
  const text = {
    confirmed: _("Confirmed by the shop's kiosk: its signature on this status is valid."),
    unsigned: _("Warning: the shop's kiosk did not sign this status. It may not come from the shop; ask at the counter before relying on it."),
    forged: _("Warning: this status has a signature that is not the shop's kiosk's. It did not come from the shop; ask at the counter."),
    unchecked: _("This status cannot be checked: the page was opened without the shop's current key set (an older QR code or a changed key)."),
  }[verdict];
  element.dataset.receipt = verdict;
  element.textContent = text ? `${verdict === "confirmed" ? "✓" : "!"} ${text}` : "";
  element.hidden = !text;
  return verdict;
}
