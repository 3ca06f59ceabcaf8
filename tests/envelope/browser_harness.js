// Test harness: exposes the envelope modules to Playwright's page.evaluate.
import * as envelope from "/js/envelope.js";
import * as hpke from "/js/hpke.js";
import * as sha256 from "/js/sha256.js";

function fromB64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

function toB64(bytes) {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

function fromHex(hex) {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(2 * i, 2), 16);
  return out;
}

function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function pattern(size) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = i % 251;
  return out;
}

// Evaluated by page code (not DevTools), so the page's CSP applies: "blocked"
// proves the modules run without unsafe-eval.
let evalState = "allowed";
try {
  (0, eval)("1");
} catch {
  evalState = "blocked";
}
document.body.dataset.eval = evalState;

// A Blob that records every read: whole-blob reads on itself ("whole") and the byte
// size of each slice that is read. Lets tests prove a hash streams instead of loading
// the file.
class SpyBlob extends Blob {
  constructor(parts, options) {
    super(parts, options);
    this.reads = [];
  }
  arrayBuffer() {
    this.reads.push({ whole: true, size: this.size });
    return super.arrayBuffer();
  }
  stream() {
    this.reads.push({ whole: true, size: this.size });
    return super.stream();
  }
  text() {
    this.reads.push({ whole: true, size: this.size });
    return super.text();
  }
  bytes() {
    this.reads.push({ whole: true, size: this.size });
    return super.bytes();
  }
  slice(...args) {
    const part = super.slice(...args);
    const reads = this.reads;
    const read = part.arrayBuffer.bind(part);
    part.arrayBuffer = () => {
      reads.push({ whole: false, size: part.size });
      return read();
    };
    return part;
  }
}

window.cloudtab = { envelope, hpke, sha256, SpyBlob, fromB64, toB64, fromHex, toHex, pattern };
document.body.dataset.ready = "1";
