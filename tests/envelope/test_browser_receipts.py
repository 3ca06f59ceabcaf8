"""Key set fingerprints and kiosk receipts in Chromium (WebCrypto): the shared vectors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parents[1] / "data"
KEYSETS = json.loads((DATA / "keyset_vectors.json").read_text(encoding="utf-8"))
RECEIPTS = json.loads((DATA / "receipt_vectors.json").read_text(encoding="utf-8"))

CHECK = """async ({ keysets, receipts }) => {
  const { keySetBytes, keySetFingerprint, fingerprintText } = await import("/js/keyset.js");
  const { receiptMessage, verifyReceipt, checkStatement } = await import("/js/receipt.js");
  const { b64urlDecode, b64urlEncode } = await import("/js/envelope.js");
  const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  const unhex = (h) => new Uint8Array((h.match(/../g) || []).map((x) => parseInt(x, 16)));
  const recs = (list) => list.map((k) => ({ encryptionKey: b64urlDecode(k.public_key), signingKey: b64urlDecode(k.signing_key) }));
  const sets = [];
  for (const v of keysets.vectors) {
    const digest = await keySetFingerprint(recs(v.kiosk_keys));
    sets.push({ keyset_hex: hex(keySetBytes(recs(v.kiosk_keys))), fingerprint_hex: hex(digest),
                fragment: b64urlEncode(digest), display: fingerprintText(digest) });
  }
  const invalid = keysets.invalid.map((v) => { try { keySetBytes(recs(v.kiosk_keys)); return "accepted"; } catch { return "refused"; } });
  const key = b64urlDecode(receipts.signing_key);
  const fields = (v) => ({ jobId: v.job_id, state: v.state, reason: v.reason, signTimeMs: v.sign_time_ms,
    manifestSha256: unhex(v.manifest_sha256), waitReason: v.wait_reason, detailSha256: unhex(v.detail_sha256) });
  const messages = [], good = [], bad = [];
  for (const v of receipts.vectors) {
    messages.push(hex(receiptMessage(fields(v))));
    good.push(await verifyReceipt(key, fields(v), b64urlDecode(v.signature)));
  }
  for (const v of receipts.invalid) bad.push(await verifyReceipt(key, fields(v), b64urlDecode(v.signature)));
  // checkStatement on the bridge's JSON: the printing vector carries a wait reason and a sealed detail.
  const p = receipts.vectors[1];
  const manifestSha256 = unhex(p.manifest_sha256);
  const iso = new Date(p.sign_time_ms).toISOString();
  const job = { state: "printing", reason: "", statement: { wait_reason: p.wait_reason, sealed_detail: receipts.sealed_detail, signature: p.signature, sign_time: iso } };
  const ctx = { jobId: p.job_id, manifestSha256, signingKeys: [unhex("04" + "00".repeat(64)), key] };
  const states = [
    await checkStatement(job, ctx),
    await checkStatement({ ...job, state: "completed" }, ctx),
    await checkStatement({ ...job, statement: {} }, ctx),
    await checkStatement({ ...job, statement: { ...job.statement, sealed_detail: "" } }, ctx),
    await checkStatement(job, { ...ctx, signingKeys: [] }),
    await checkStatement({ state: "queued" }, ctx),
  ];
  return { sets, invalid, messages, good, bad, states };
}"""


def test_browser_reproduces_keysets_and_verifies_receipts(page: Any) -> None:
    got = page.evaluate(CHECK, {"keysets": KEYSETS, "receipts": RECEIPTS})
    for mine, v in zip(got["sets"], KEYSETS["vectors"], strict=True):
        assert mine == {k: v[k] for k in ("keyset_hex", "fingerprint_hex", "fragment", "display")}
    assert got["invalid"] == ["refused"] * len(KEYSETS["invalid"])
    assert got["messages"] == [v["message_hex"] for v in RECEIPTS["vectors"]]
    assert got["good"] == [True] * len(RECEIPTS["vectors"])
    assert got["bad"] == [False] * len(RECEIPTS["invalid"])
    assert got["states"] == ["confirmed", "forged", "unsigned", "forged", "unchecked", "none"]
