"""Multi-recipient sealed manifest (docs/envelope.md §5.2) in real headless Chromium against Python."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from envelope import generate_private_key, open_manifest, public_key_bytes, seal_manifest_multi
from envelope.manifest import parse
from tests.envelope.hpke_ref import private_key_from_hex

DATA = Path(__file__).resolve().parents[1] / "data"


def _public_hex(scalar: str) -> str:
    return public_key_bytes(private_key_from_hex(scalar)).hex()


def test_browser_multi_recipient_against_vectors_and_python(page: Any) -> None:
    vec = json.loads((DATA / "envelope_vectors_multi.json").read_text(encoding="utf-8"))
    fresh = [generate_private_key() for _ in range(2)]
    manifest = parse(vec["manifest_json"].encode("utf-8"))
    py_sealed = seal_manifest_multi(manifest, [public_key_bytes(k) for k in fresh], "job-PY")
    recips = [
        {**r, "public_hex": _public_hex(r["private_scalar"]), "eph_hex": _public_hex(r["ephemeral_private_scalar"])}
        for r in vec["recipients"]
    ]
    result = page.evaluate(
        """async ([vec, recips, outsiderPub, pySealed]) => {
          const { envelope, hpke, fromHex, toHex } = window.cloudtab;
          const keys = recips.map((r) => fromHex(r.public_hex));
          const ephemerals = [];
          for (const r of recips) ephemerals.push({ privateKey: await hpke.importPrivateKeyScalar(fromHex(r.ephemeral_private_scalar), fromHex(r.eph_hex)), publicKey: fromHex(r.eph_hex) });
          const obj = JSON.parse(vec.manifest_json);
          const sealed = await envelope.sealManifestMulti(keys, vec.job_id, obj, { manifestKey: fromHex(vec.manifest_key), ephemerals });
          const opened = [];
          for (const r of recips) {
            const recipient = await hpke.importRecipientKey({ d: fromHex(r.private_scalar), publicKey: fromHex(r.public_hex) });
            opened.push((await envelope.openManifest(recipient, vec.job_id, fromHex(vec.sealed_manifest))).k);
          }
          const first = await hpke.importRecipientKey({ d: fromHex(recips[0].private_scalar), publicKey: keys[0] });
          const outsider = await hpke.importRecipientKey({ d: fromHex(vec.outsider_private_scalar), publicKey: fromHex(outsiderPub) });
          const errors = [];
          for (const [who, job, data] of [[first, "job-OTHER", vec.sealed_manifest], [outsider, vec.job_id, vec.sealed_manifest],
                                          [first, vec.job_id, vec.sealed_manifest.slice(0, -2) + "00"]]) {
            try { await envelope.openManifest(who, job, fromHex(data)); errors.push("opened"); } catch (e) { errors.push(e.code); }
          }
          let dup = "sealed";
          try { await envelope.sealManifestMulti([keys[0], keys[0]], vec.job_id, obj); } catch (e) { dup = e.code; }
          // A random seal from the page, for Python to open, and Python's seal for the page to list.
          const random = await envelope.sealManifestMulti(keys, "job-JS", obj);
          return { sealed: toHex(sealed), opened, errors, dup, random: toHex(random),
                   pyRecipients: envelope.manifestRecipients(fromHex(pySealed)).map(toHex) };
        }""",
        [vec, recips, _public_hex(vec["outsider_private_scalar"]), py_sealed.hex()],
    )
    assert result["sealed"] == vec["sealed_manifest"]
    assert result["opened"] == [json.loads(vec["manifest_json"])["k"]] * 2
    assert result["errors"] == ["key", "key", "key"]
    assert result["dup"] == "key"
    assert result["pyRecipients"] == [py_sealed[6 + i * 145 : 6 + i * 145 + 32].hex() for i in range(2)]
    random = bytes.fromhex(result["random"])
    for r in vec["recipients"]:
        assert open_manifest(random, private_key_from_hex(r["private_scalar"]), "job-JS") == manifest
    page_opens_python = page.evaluate(
        """async ([sealed, scalarHex, pubHex]) => {
          const { envelope, hpke, fromHex } = window.cloudtab;
          const r = await hpke.importRecipientKey({ d: fromHex(scalarHex), publicKey: fromHex(pubHex) });
          return (await envelope.openManifest(r, "job-PY", fromHex(sealed))).k;
        }""",
        [
            py_sealed.hex(),
            format(fresh[1].private_numbers().private_value, "064x"),
            public_key_bytes(fresh[1]).hex(),
        ],
    )
    assert page_opens_python == json.loads(vec["manifest_json"])["k"]
