// format.js — numbers, sizes, durations and file kinds for people, in the page's language.

import { _, formatNumber } from "./i18n.js";

const UNITS = [[1000 ** 3, "GB"], [1000 ** 2, "MB"], [1000, "kB"]];

// Decimal units, as phones show file sizes.
export function formatBytes(n) {
  for (const [size, unit] of UNITS) {
    if (n >= size) {
      const v = n / size;
      const digits = v < 10 ? 1 : 0;
      return `${formatNumber(v, { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
    }
  }
  return `${formatNumber(n)} B`;
}

// A limit as a round figure, never above the real one: 2,147,483,648 -> "2 GB",
// 104,857,600 -> "100 MB", 1,500,000,000 -> "1.5 GB".
export function formatLimit(n) {
  for (const [size, unit] of [...UNITS, [1, "B"]]) {
    if (n >= size) {
      const v = n / size;
      const magnitude = 10 ** Math.floor(Math.log10(v));
      let round = Math.floor(v / magnitude) * magnitude;
      if (round < v * 0.75) round = Math.floor(v / (magnitude / 10)) * (magnitude / 10);
      return `${formatNumber(round, { maximumFractionDigits: 1 })} ${unit}`;
    }
  }
  return "0 B";
}

export function percent(done, total) {
  if (total <= 0) return 100;
  return Math.floor((done / total) * 100);
}

// "about 3 minutes left" style, rounded so it does not flicker.
export function formatRemaining(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  if (seconds < 10) return _("a few seconds left");
  if (seconds < 60) return _("about %(n)s seconds left", { n: formatNumber(Math.ceil(seconds / 10) * 10) });
  if (seconds < 90) return _("about a minute left");
  if (seconds < 3600) return _("about %(n)s minutes left", { n: formatNumber(Math.round(seconds / 60)) });
  return _("more than an hour left");
}

const BY_EXTENSION = {
  pdf: "application/pdf", jpg: "image/jpeg", jpeg: "image/jpeg", png: "image/png",
  gif: "image/gif", webp: "image/webp", tif: "image/tiff", tiff: "image/tiff",
  txt: "text/plain", heic: "image/heic", heif: "image/heif",
  doc: "application/msword", docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  odt: "application/vnd.oasis.opendocument.text", rtf: "application/rtf",
  xls: "application/vnd.ms-excel", xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
  ods: "application/vnd.oasis.opendocument.spreadsheet",
  ppt: "application/vnd.ms-powerpoint", pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  odp: "application/vnd.oasis.opendocument.presentation",
};

// Other names browsers give the same kinds (the kiosk reads both: kiosk/core/formats.py).
const ALIASES = { "text/rtf": "application/rtf", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg" };
// Documents the shop turns into PDF (LibreOffice at the kiosk): the page cannot count their pages.
const CONVERTED = new Set([
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "application/msword",
  "application/vnd.oasis.opendocument.text", "application/rtf", "text/plain",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/vnd.oasis.opendocument.spreadsheet",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/vnd.oasis.opendocument.presentation",
]);

function extension(name) {
  const dot = name.lastIndexOf(".");
  return dot >= 0 ? name.slice(dot + 1).toLowerCase() : "";
}

// The file's media type: the browser's (its usual name), else (none, or the generic
// "application/octet-stream" some phones give a .docx or .heic) guessed from the extension.
export function mediaType(file) {
  const given = ALIASES[file.type] || file.type;
  if (given && given !== "application/octet-stream") return given;
  return BY_EXTENSION[extension(file.name)] || "application/octet-stream";
}

// The file picker's accept attribute for the shop's accepted types: the types and their
// extensions (some systems offer a .heic or .docx only by its extension).
export function acceptAttribute(types) {
  const exts = Object.entries(BY_EXTENSION).filter(([, type]) => types.includes(type)).map(([ext]) => `.${ext}`);
  return [...types, ...exts].join(",");
}

// The type the page sends for this file to a shop that accepts `types`: its own, or, when the
// shop does not take that but takes the type its extension names (a .docx the system calls
// "application/zip"), the extension's. The kiosk checks the bytes against it either way.
export function shopType(types, file) {
  const own = mediaType(file);
  if (!types.length || types.includes(own)) return own;
  const byName = BY_EXTENSION[extension(file.name)];
  return byName && types.includes(byName) ? byName : own;
}

// True for a document the shop turns into PDF before printing (Word, Excel, PowerPoint, ...).
export function isConverted(type) {
  return CONVERTED.has(type);
}

// What the shop does with a file of this type before printing, in plain words ("" for a PDF).
export function conversionNote(type) {
  if (!CONVERTED.has(type)) return "";
  if (type === "text/plain") return _("Text files are turned into PDF at the shop; the shop checks the pages before printing.");
  if (/sheet/.test(type)) return _("Spreadsheets are turned into PDF at the shop; the shop checks the pages before printing.");
  if (/presentation/.test(type)) return _("Presentations are turned into PDF at the shop; the shop checks the pages before printing.");
  return _("Word files are turned into PDF at the shop; the shop checks the pages before printing.");
}

// A media type in plain words ("PDF", "photo (JPEG)", "Word document").
export function kindName(type) {
  if (type === "application/pdf") return _("PDF");
  if (type === "image/jpeg") return _("photo (JPEG)");
  if (type === "image/png") return _("picture (PNG)");
  if (type === "image/heic" || type === "image/heif") return _("iPhone photo (HEIC)");
  if (type === "image/webp") return _("picture (WebP)");
  if (type === "image/gif") return _("picture (GIF)");
  if (type === "image/tiff") return _("picture (TIFF)");
  if (type === "text/plain") return _("text file");
  if (/word|opendocument\.text|rtf/.test(type)) return _("Word document");
  if (/sheet|excel/.test(type)) return _("spreadsheet");
  if (/presentation|powerpoint/.test(type)) return _("presentation");
  if (type.startsWith("image/")) return _("picture");
  return _("file of an unknown kind");
}

// The shop's accepted types as one plain list: "PDF, photo (JPEG), picture (PNG)".
export function kindList(types) {
  return [...new Set(types.map(kindName))].join(", ");
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

export { formatNumber };
