"""The browser envelope (WebCrypto) against cryptography, in real headless Chromium.

Python seals and the browser opens, and the other way round, for files of 0, 1,
65,536, 65,537 and 5,000,000 bytes; the browser's HPKE passes RFC 9180 A.3 and
reproduces the committed CloudTab vectors byte for byte. The page is served
under a strict CSP (no unsafe-eval), as the upload page is.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from envelope import (
    RECORD_SIZE,
    Customer,
    FileEntry,
    JobOptions,
    Manifest,
    WrongKeyError,
    file_key,
    generate_private_key,
    new_content_key,
    open_bytes,
    open_manifest,
    public_key_bytes,
    seal_bytes,
    seal_manifest,
    seal_reply,
)

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "web_bridge" / "static" / "js"
DATA = ROOT / "tests" / "data"
SIZES = [0, 1, 65536, 65537, 5_000_000]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def pkcs8(key: Any) -> str:
    return b64(
        key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_csp_blocks_eval(page: Any) -> None:
    """The harness itself (page code) cannot eval: the strict CSP is in force."""
    assert page.evaluate("() => document.body.dataset.eval") == "blocked"


def test_rfc9180_vectors_in_browser(page: Any) -> None:
    vectors = json.loads((DATA / "rfc9180_p256_vectors.json").read_text())["vectors"]
    for v in vectors:
        result = page.evaluate(
            """async (v) => {
              const { hpke, fromHex, toHex } = window.cloudtab;
              const eph = { privateKey: await hpke.importPrivateKeyScalar(fromHex(v.skEm), fromHex(v.pkEm)), publicKey: fromHex(v.pkEm) };
              const s = await hpke.setupBaseS(fromHex(v.pkRm), fromHex(v.info), { aeadId: v.aead_id, ephemeral: eph });
              const recipient = await hpke.importRecipientKey({ d: fromHex(v.skRm), publicKey: fromHex(v.pkRm) });
              const r = await hpke.setupBaseR(recipient, s.enc, fromHex(v.info), { aeadId: v.aead_id });
              const sealed = [], opened = [];
              for (const e of v.encryptions) {
                sealed.push(toHex(await s.seal(e.seq, fromHex(e.aad), fromHex(e.plaintext))));
                opened.push(toHex(await r.open(e.seq, fromHex(e.aad), fromHex(e.ciphertext))));
              }
              return { enc: toHex(s.enc), shared_secret: toHex(s.sharedSecret), key_schedule_context: toHex(s.keyScheduleContext),
                       secret: toHex(s.secret), key: toHex(s.key), base_nonce: toHex(s.baseNonce),
                       r_key: toHex(r.key), sealed, opened };
            }""",
            v,
        )
        for name in (
            "enc",
            "shared_secret",
            "key_schedule_context",
            "secret",
            "key",
            "base_nonce",
        ):
            assert result[name] == v[name], name
        assert result["r_key"] == v["key"]
        assert result["sealed"] == [e["ciphertext"] for e in v["encryptions"]]
        assert result["opened"] == [e["plaintext"] for e in v["encryptions"]]


def test_browser_reproduces_committed_vectors(page: Any) -> None:
    vec = json.loads((DATA / "envelope_vectors.json").read_text())
    result = page.evaluate(
        """async (vec) => {
          const { envelope, hpke, fromHex, toHex, pattern } = window.cloudtab;
          const pub = await envelope.parsePublicKey(vec.shop_public_key);
          const ephPub = fromHex(vec.ephemeral_public_hex);
          const ephemeral = { privateKey: await hpke.importPrivateKeyScalar(fromHex(vec.ephemeral_private_scalar), ephPub), publicKey: ephPub };
          const manifest = JSON.parse(vec.manifest_json);
          const encoded = new TextDecoder().decode(envelope.encodeManifest(manifest));
          const sealed = await envelope.sealManifest(pub, vec.job_id, manifest, { ephemeral });
          const recipient = await hpke.importRecipientKey({ d: fromHex(vec.shop_private_scalar), publicKey: pub });
          const opened = await envelope.openManifest(recipient, vec.job_id, sealed);
          const replyPub = envelope.b64urlDecode(vec.reply_public_key);
          const replyEphPub = fromHex(vec.reply_ephemeral_public_hex);
          const replyEph = { privateKey: await hpke.importPrivateKeyScalar(fromHex(vec.reply_ephemeral_private_scalar), replyEphPub), publicKey: replyEphPub };
          const sealedReply = await envelope.sealReply(replyPub, vec.job_id, new TextEncoder().encode(vec.reply_plaintext), { ephemeral: replyEph });
          const replyKey = await hpke.importRecipientKey({ d: fromHex(vec.reply_private_scalar), publicKey: replyPub });
          const openedReply = new TextDecoder().decode(await envelope.openReply(replyKey, vec.job_id, fromHex(vec.sealed_reply)));
          let otherJob = "opened";
          try { await envelope.openReply(replyKey, "job-OTHER", fromHex(vec.sealed_reply)); } catch (e) { otherJob = e.code; }
          const K = fromHex(vec.content_key);
          const files = [];
          for (const f of vec.files) {
            const plain = f.content === "inline" ? fromHex(f.plaintext) : pattern(f.size);
            const keyBytes = await envelope.deriveFileKeyBytes(K, f.index);
            const key = await envelope.deriveFileKey(K, f.index);
            const ct = await envelope.sealBytes(key, plain);
            files.push({ file_key: toHex(keyBytes), sha256: await envelope.sha256Hex(plain), ciphertext_size: envelope.ciphertextSize(f.size),
                         ciphertext_sha256: await envelope.sha256Hex(ct), ciphertext: ct.length <= 200 ? toHex(ct) : null,
                         tail: toHex(ct.subarray(ct.length - 32)) });
          }
          return { key: envelope.encodePublicKey(pub), display: await envelope.fingerprintDisplay(pub),
                   fingerprint: toHex(await envelope.fingerprint(pub)), encoded, sealed: toHex(sealed),
                   opened_k: opened.k, opened_reply: opened.reply, sealed_reply: toHex(sealedReply), openedReply, otherJob,
                   files };
        }""",
        {
            **vec,
            "ephemeral_public_hex": _ephemeral_public_hex(vec),
            "reply_ephemeral_public_hex": _public_hex(vec["reply_ephemeral_private_scalar"]),
        },
    )
    assert result["sealed_reply"] == vec["sealed_reply"]
    assert result["openedReply"] == vec["reply_plaintext"]
    assert result["otherJob"] == "key"
    assert result["opened_reply"] == vec["reply_public_key"]
    assert result["key"] == vec["shop_public_key"]
    assert result["display"] == vec["fingerprint_display"]
    assert result["fingerprint"] == vec["fingerprint"]
    assert result["encoded"] == vec["manifest_json"]
    assert result["sealed"] == vec["sealed_manifest"]
    assert result["opened_k"] == json.loads(vec["manifest_json"])["k"]
    for got, want in zip(result["files"], vec["files"], strict=True):
        assert got["file_key"] == want["file_key"]
        assert got["sha256"] == want["sha256"]
        assert got["ciphertext_size"] == want["ciphertext_size"]
        assert got["ciphertext_sha256"] == want["ciphertext_sha256"]
        if "ciphertext" in want:
            assert got["ciphertext"] == want["ciphertext"]
        else:
            assert got["tail"] == want["ciphertext_tail_32"]


def _ephemeral_public_hex(vec: dict[str, Any]) -> str:
    return _public_hex(vec["ephemeral_private_scalar"])


def _public_hex(scalar: str) -> str:
    from tests.envelope.hpke_ref import private_key_from_hex

    return public_key_bytes(private_key_from_hex(scalar)).hex()


@pytest.mark.parametrize("size", SIZES)
def test_python_seals_browser_opens(page: Any, size: int) -> None:
    data = os.urandom(size)
    k = new_content_key()
    sealed = seal_bytes(file_key(k, 3), data)
    digest = page.evaluate(
        """async ([k, sealed, size, sha]) => {
          const { envelope, fromB64 } = window.cloudtab;
          const key = await envelope.deriveFileKey(fromB64(k), 3);
          const plain = await envelope.openBytes(key, fromB64(sealed), { size, sha256: sha });
          return [plain.length, await envelope.sha256Hex(plain)];
        }""",
        [b64(k), b64(sealed), size, hashlib.sha256(data).hexdigest()],
    )
    assert digest == [size, hashlib.sha256(data).hexdigest()]


@pytest.mark.parametrize("size", SIZES)
def test_browser_seals_python_opens(page: Any, size: int) -> None:
    data = os.urandom(size)
    k = new_content_key()
    result = page.evaluate(
        """async ([k, data]) => {
          const { envelope, fromB64, toB64 } = window.cloudtab;
          const key = await envelope.deriveFileKey(fromB64(k), 1);
          const blob = new Blob([fromB64(data)]);
          const parts = [];
          let expected = 0;
          for await (const c of envelope.encryptFile(blob, key, { sliceSize: 1 << 20 })) {
            if (c.offset !== expected) throw new Error("gap at " + c.offset);
            expected += c.bytes.length;
            parts.push(c);
          }
          const all = new Uint8Array(expected);
          for (const c of parts) all.set(c.bytes, c.offset);
          return { sealed: toB64(all), chunks: parts.map((c) => [c.record, c.records, c.offset, c.bytes.length, c.last]),
                   declared: envelope.ciphertextSize(blob.size) };
        }""",
        [b64(k), b64(data)],
    )
    sealed = base64.b64decode(result["sealed"])
    assert len(sealed) == result["declared"]
    chunks = result["chunks"]
    assert chunks[-1][4] is True and not any(c[4] for c in chunks[:-1])
    for record, records, offset, length, last in chunks:
        assert offset == record * (RECORD_SIZE + 16)
        assert last or length == records * (RECORD_SIZE + 16)
    assert (
        open_bytes(
            file_key(k, 1),
            sealed,
            expected_size=size,
            expected_sha256=hashlib.sha256(data).hexdigest(),
        )
        == data
    )


def test_resume_from_record(page: Any) -> None:
    """Encryption started at record n equals the tail of a full encryption."""
    size = 5_000_000
    result = page.evaluate(
        """async (size) => {
          const { envelope, pattern, toHex } = window.cloudtab;
          const key = await envelope.deriveFileKey(new Uint8Array(32).fill(7), 0);
          const blob = new Blob([pattern(size)]);
          const collect = async (startRecord) => {
            const parts = [];
            for await (const c of envelope.encryptFile(blob, key, { startRecord })) parts.push(c);
            return parts;
          };
          const full = await collect(0);
          const whole = new Uint8Array(envelope.ciphertextSize(size));
          for (const c of full) whole.set(c.bytes, c.offset);
          const out = [];
          for (const n of [1, 64, 65, 76]) {
            const resumed = await collect(n);
            const tail = new Uint8Array(whole.length - envelope.ciphertextOffset(n));
            for (const c of resumed) tail.set(c.bytes, c.offset - envelope.ciphertextOffset(n));
            out.push([n, resumed[0].offset, await envelope.sha256Hex(tail),
                      await envelope.sha256Hex(whole.subarray(envelope.ciphertextOffset(n)))]);
          }
          let error = null;
          try { await collect(77); } catch (e) { error = e.name; }
          return { out, error, records: envelope.recordCount(size) };
        }""",
        size,
    )
    assert result["records"] == 77
    for n, offset, resumed, expected in result["out"]:
        assert offset == n * (RECORD_SIZE + 16)
        assert resumed == expected
    assert result["error"] == "RangeError"


def test_manifest_both_ways(page: Any) -> None:
    shop = generate_private_key()
    pub = public_key_bytes(shop)
    manifest = Manifest(
        content_key=new_content_key(),
        files=(
            FileEntry(
                name="résumé.pdf",
                type="application/pdf",
                size=5,
                sha256="ab" * 32,
                copies=2,
                page_ranges="2-4",
            ),
            FileEntry(name="photo.png", type="image/png", size=9, sha256="cd" * 32),
        ),
        customer=Customer(name="Zoë", note='line\nbreak \u2028 "quoted"'),
        options=JobOptions(color="color", sides="two-sided-short-edge", media="Legal", pages_per_sheet=4),
        reply_key=public_key_bytes(generate_private_key()),
    )
    sealed_py = seal_manifest(manifest, shop.public_key(), "job/ä 1")
    result = page.evaluate(
        """async ([pkcs8, pub, sealed, manifestJson]) => {
          const { envelope, hpke, fromB64, toB64 } = window.cloudtab;
          const recipient = await hpke.importRecipientKey({ pkcs8: fromB64(pkcs8), publicKey: fromB64(pub) });
          const opened = await envelope.openManifest(recipient, "job/ä 1", fromB64(sealed));
          const errors = [];
          for (const job of ["job/ä 2", ""]) {
            try { await envelope.openManifest(recipient, job, fromB64(sealed)); errors.push("opened"); }
            catch (e) { errors.push(e.code); }
          }
          const other = await hpke.generateKeyPair();
          try { await envelope.openManifest(other, "job/ä 1", fromB64(sealed)); errors.push("opened"); }
          catch (e) { errors.push(e.code); }
          const mine = await envelope.sealManifest(fromB64(pub), "job/ä 1", JSON.parse(manifestJson));
          const parsed = JSON.parse(manifestJson);
          const built = envelope.manifestObject({
            contentKey: envelope.b64urlDecode(parsed.k), customer: parsed.customer, files: parsed.files,
            options: { color: "color", sides: "two-sided-short-edge", media: "Legal", pages_per_sheet: 4 },
            replyKey: envelope.b64urlDecode(parsed.reply) });
          return { opened, errors, mine: toB64(mine), encoded: new TextDecoder().decode(envelope.encodeManifest(opened)),
                   built: new TextDecoder().decode(envelope.encodeManifest(built)) };
        }""",
        [pkcs8(shop), b64(pub), b64(sealed_py), manifest.to_json().decode("utf-8")],
    )
    assert result["opened"] == manifest.to_dict()
    assert result["encoded"].encode("utf-8") == manifest.to_json()
    assert result["built"].encode("utf-8") == manifest.to_json()  # manifestObject fills defaults as Python does
    assert result["errors"] == ["key", "manifest", "key"]
    assert open_manifest(base64.b64decode(result["mine"]), shop, "job/ä 1") == manifest
    with pytest.raises(WrongKeyError):
        open_manifest(base64.b64decode(result["mine"]), shop, "job/ä 2")


def test_browser_open_failures(page: Any) -> None:
    k = new_content_key()
    data = os.urandom(2 * RECORD_SIZE + 100)
    sealed = seal_bytes(file_key(k, 0), data)
    flipped = bytearray(sealed)
    flipped[100] ^= 1
    cases = {
        "flipped": (bytes(flipped), 0),
        "truncated": (sealed[: 2 * (RECORD_SIZE + 16)], 0),
        "appended": (sealed + sealed[-10:], 0),
        "trailing": (seal_bytes(file_key(k, 2), bytes(RECORD_SIZE)) + sealed[:100], 2),
        "other_file": (sealed, 1),
        "swapped": (
            sealed[RECORD_SIZE + 16 : 2 * (RECORD_SIZE + 16)]
            + sealed[: RECORD_SIZE + 16]
            + sealed[2 * (RECORD_SIZE + 16) :],
            0,
        ),
    }
    codes = page.evaluate(
        """async ([k, cases, sha]) => {
          const { envelope, fromB64 } = window.cloudtab;
          const out = {};
          for (const [name, [ct, index]] of Object.entries(cases)) {
            const key = await envelope.deriveFileKey(fromB64(k), index);
            try { await envelope.openBytes(key, fromB64(ct), { sha256: sha }); out[name] = "opened"; }
            catch (e) { out[name] = e.code; }
          }
          return out;
        }""",
        [
            b64(k),
            {name: [b64(ct), i] for name, (ct, i) in cases.items()},
            hashlib.sha256(data).hexdigest(),
        ],
    )
    assert codes == {
        "flipped": "tampered",
        "truncated": "truncated",
        "appended": "tampered",
        "trailing": "trailing",
        "other_file": "tampered",
        "swapped": "tampered",
    }


def test_public_key_parsing(page: Any) -> None:
    key = generate_private_key()
    from envelope import encode_public_key, fingerprint_display

    text = encode_public_key(key)
    result = page.evaluate(
        """async (text) => {
          const { envelope } = window.cloudtab;
          const pub = await envelope.parsePublicKey(text);
          const bad = [];
          for (const t of [text + "=", text.slice(1), "B".repeat(87), "", "AB"]) {
            try { await envelope.parsePublicKey(t); bad.push("ok"); } catch (e) { bad.push(e.code); }
          }
          return { back: envelope.encodePublicKey(pub), display: await envelope.fingerprintDisplay(pub), bad };
        }""",
        text,
    )
    assert result["back"] == text
    assert result["display"] == fingerprint_display(key)
    assert result["bad"] == ["key"] * 5


def test_reply_key_page_to_kiosk_and_back(page: Any) -> None:
    """The page makes a reply key, Python (the kiosk) seals details to it, the page opens them."""
    made = page.evaluate(
        """async () => {
          const { envelope, toB64 } = window.cloudtab;
          window.replyPair = await envelope.newReplyKey();
          return toB64(window.replyPair.publicKey);
        }"""
    )
    reply_key = base64.b64decode(made)
    sealed = seal_reply(reply_key, "job-R1", "Seite 3 ist leer — é".encode())
    result = page.evaluate(
        """async (sealed) => {
          const { envelope, fromB64 } = window.cloudtab;
          const plain = new TextDecoder().decode(await envelope.openReply(window.replyPair, "job-R1", fromB64(sealed)));
          let wrong = "opened";
          try { await envelope.openReply(window.replyPair, "job-R2", fromB64(sealed)); } catch (e) { wrong = e.code; }
          return { plain, wrong };
        }""",
        b64(sealed),
    )
    assert result == {"plain": "Seite 3 ist leer — é", "wrong": "key"}
