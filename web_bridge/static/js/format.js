// format.js — numbers and file types for people.

// Decimal units, as phones show file sizes.
export function formatBytes(n) {
  if (n < 1000) return `${n} B`;
  if (n < 1000 ** 2) return `${(n / 1000).toFixed(n < 10000 ? 1 : 0)} kB`;
  if (n < 1000 ** 3) return `${(n / 1000 ** 2).toFixed(1)} MB`;
  return `${(n / 1000 ** 3).toFixed(2)} GB`;
}

export function percent(done, total) {
  if (total <= 0) return 100;
  return Math.floor((done / total) * 100);
}

const BY_EXTENSION = {
  pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png",
  gif: "image/gif", webp: "image/webp", tif: "image/tiff", tiff: "image/tiff",
  txt: "text/plain", heic: "image/heic",
};

// The file's media type: the browser's, else guessed from the extension.
export function mediaType(file) {
  if (file.type) return file.type;
  const dot = file.name.lastIndexOf(".");
  const ext = dot >= 0 ? file.name.slice(dot + 1).toLowerCase() : "";
  return BY_EXTENSION[ext] || "application/octet-stream";
}

export function sameBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
