// order.js — the order as the customer builds it: page ranges checked against page
// counts, the shop's options, the manifest input, and the price. The manifest's shape
// and the price rules come from envelope.js and pricing.js.

import * as pricing from "./pricing.js";

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
    },
  };
}

// The itemised price (pricing.js quote, amounts in the currency's minor unit), or null when
// the page cannot price this order (no published price list, options the shop does not
// price, or a document whose pages only the shop can count): then it is priced at the counter.
export function priceOf(shop, files, job) {
  const list = pricing.priceListFrom(shop.capabilities);
  if (!list) return null;
  const options = {
    color: job.color, sides: job.sides, media: job.media, pages_per_sheet: job.pagesPerSheet,
    orientation: job.orientation,
  };
  try {
    const q = pricing.quote(files.map((f) => ({
      pages: f.total, options: { ...options, copies: f.copies, page_ranges: f.pageRanges },
    })), list);
    if (!q.complete) return null;
    return {
      total: q.total, currency: q.currency,
      lines: q.lines.map((line, i) => ({ label: files[i].file.name, amount: line.amount })),
    };
  } catch {
    return null;
  }
}
