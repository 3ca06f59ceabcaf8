// The shop key's fingerprint as six words from the EFF large word list (vendored
// unmodified, SHA-256 checked here before use). Same derivation as envelope/words.py:
// n = first 16 bytes of SHA-256(public key), big-endian; six times word = list[n % 7776],
// n = n / 7776.
import { fingerprint } from "./envelope.js";

const WORDLIST_URL = "/static/vendor/eff-wordlist/eff_large_wordlist.txt";
const WORDLIST_SHA256 = "addd35536511597a02fa0a9ff1e5284677b8883b83e986e43f15a3db996b903e";
const WORD_COUNT = 6;
const LIST_SIZE = 7776n;

let listPromise = null;

function hexOf(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function loadList() {
  const response = await fetch(WORDLIST_URL);
  if (!response.ok) throw new Error("word list unavailable");
  const data = new Uint8Array(await response.arrayBuffer());
  const digest = new Uint8Array(await globalThis.crypto.subtle.digest("SHA-256", data));
  if (hexOf(digest) !== WORDLIST_SHA256) throw new Error("word list is not the EFF large word list");
  const words = new TextDecoder().decode(data).split("\n").filter((l) => l).map((l) => l.split("\t")[1]);
  if (BigInt(words.length) !== LIST_SIZE) throw new Error("word list has the wrong size");
  return words;
}

export async function fingerprintWords(publicKeyBytes) {
  return digestWords(await fingerprint(publicKeyBytes));
}

// The six words of a 32-byte fingerprint (a key's, or a key set's: keyset.js).
export async function digestWords(digest) {
  listPromise ??= loadList();
  const words = await listPromise;
  let n = BigInt("0x" + hexOf(digest.subarray(0, 16)));
  const out = [];
  for (let i = 0; i < WORD_COUNT; i++) {
    out.push(words[Number(n % LIST_SIZE)]);
    n /= LIST_SIZE;
  }
  return out;
}
