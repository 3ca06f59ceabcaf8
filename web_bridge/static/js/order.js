// order.js — the order as the customer builds it: page ranges checked against page
// counts, the shop's options, the manifest input, and the price. The manifest's shape
// and the price rules come from envelope.js and pricing.js.

import * as pricing from "./pricing.js";

// Paper and photo sizes in millimetres (portrait), and the margin photos are kept inside
// (kiosk/core/options.py PAPER_SIZES, kiosk/core/images.py PHOTO_SIZES and MARGIN_PT).
const PAPER_MM = { A4: [210, 297], Letter: [215.9, 279.4], A3: [297, 420], Legal: [215.9, 355.6] };
const PHOTO_MM = { "10x15": [100, 150], "4x6": [101.6, 152.4] };
const MARGIN_MM = 10;

// Whether `perSheet` photos of `size` ("page", "10x15", "4x6") go on one sheet of `media`,
// either way round: the kiosk's PhotoLayout.fits (kiosk/core/images.py).
export function photoLayoutFits(size, perSheet, media) {
  if (size === "page") return true;
  const paper = PAPER_MM[media];
  const photo = PHOTO_MM[size];
  if (!paper || !photo) return false;
  const grids = { 1: [[1, 1]], 2: [[1, 2], [2, 1]], 4: [[2, 2]] }[perSheet] || [];
  for (const [pw, ph] of [paper, [paper[1], paper[0]]]) {
    for (const [cw, ch] of [photo, [photo[1], photo[0]]]) {
      for (const [cols, rows] of grids) {
        if (cols * cw <= pw - 2 * MARGIN_MM + 1e-6 && rows * ch <= ph - 2 * MARGIN_MM + 1e-6) return true;
      }
    }
  }
  return false;
}

// True for a photo file (the kiosk lays photos out with the job's photo options).
export function isPhoto(type) {
  return typeof type === "string" && type.startsWith("image/");
}

// The photo options as manifest words, only those that differ from the default, and only when
// the job has a photo (a job of PDFs carries none).
function photoWords(files, job) {
  if (!files.some((f) => isPhoto(f.type))) return {};
  const words = {};
  if (job.photoFit && job.photoFit !== "fit") words.photo_fit = job.photoFit;
  if (job.photoSize && job.photoSize !== "page") words.photo_size = job.photoSize;
  if (job.photosPerSheet && job.photosPerSheet !== 1) words.photos_per_sheet = job.photosPerSheet;
  return words;
}

export const MAX_COPIES = 999;

// Parses "1-3,5" against a document of `total` pages (null: unknown) with the kiosk's
// parser (pricing.js). Returns {ok: true, pages: count|null} or {ok: false, reason:
// "syntax" | "range"}.
export function parseRanges(text, total) {
  try {
    pricing.pageRangeSpans(text, null);
  } catch {
    return { ok: false, reason: "syntax" };
  }
  if (total === null) return { ok: true, pages: null };
  try {
    return { ok: true, pages: pricing.countPages(text, total) };
  } catch {
    return { ok: false, reason: "range" };
  }
}

// What the shop's printer can do: the published capabilities (pricing.js offered()) when
// the shop has them, else everything the page knows.
export function shopOffer(shop) {
  const c = pricing.offered(shop.capabilities) || {};
  const list = (value, fallback) => (Array.isArray(value) && value.length ? value : fallback);
  return {
    media: list(c.media, ["A4", "Letter", "A3", "Legal"]),
    color: list(c.color, ["monochrome", "color"]),
    sides: list(c.sides, ["one-sided", "two-sided-long-edge", "two-sided-short-edge"]),
    pagesPerSheet: list(c.pages_per_sheet, [1, 2, 4]).map(Number),
    orientation: ["portrait", "landscape"],
  };
}

// The manifestObject() input (format 2) for these files (each {file, type, sha256, total,
// copies, pageRanges}; ranges in the manifest's canonical form) and job options ({color, sides, media, pagesPerSheet, orientation}).
export function manifestInput(contentKey, customer, files, job) {
  return {
    contentKey, customer,
    files: files.map((f) => ({
      name: f.file.name, type: f.type, size: f.file.size, sha256: f.sha256,
      copies: f.copies,
      page_ranges: f.total === null ? f.pageRanges : pricing.canonicalPageRanges(f.pageRanges, f.total),
    })),
    options: {
      color: job.color, sides: job.sides, media: job.media,
      pages_per_sheet: job.pagesPerSheet, orientation: job.orientation,
      ...photoWords(files, job),
    },
  };
}

// The itemised price (pricing.js quote, amounts in the currency's minor unit), or null when
// the page cannot price this order at all (no published price list, or options the shop does
// not price). A document whose pages only the shop can count (one the kiosk converts) gets a
// line with amount null, "priced at the counter"; the total covers the other files and
// `complete` says whether every file is priced.
export function priceOf(shop, files, job) {
  const list = pricing.priceListFrom(shop.capabilities);
  if (!list) return null;
  const options = {
    color: job.color, sides: job.sides, media: job.media, pages_per_sheet: job.pagesPerSheet,
    orientation: job.orientation, ...photoWords(files, job),
  };
  try {
    const q = pricing.quote(files.map((f) => ({
      pages: f.total, options: { ...options, copies: f.copies, page_ranges: f.pageRanges },
    })), list);
    if (q.lines.every((line) => line.atCounter)) return null;
    return {
      total: q.total, currency: q.currency, complete: q.complete,
      lines: q.lines.map((line, i) => ({ label: files[i].file.name, amount: line.atCounter ? null : line.amount })),
    };
  } catch {
    return null;
  }
}
