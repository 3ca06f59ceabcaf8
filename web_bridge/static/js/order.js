// order.js — the order as the customer builds it: page ranges checked against page
// counts, the shop's options, the manifest input, and the price. The manifest's shape
// and the price come from envelope.js and pricing.js (owned with the data plane); this
// module adapts the page to whichever manifest version envelope.js writes.

import * as envelope from "./envelope.js";

export const MAX_COPIES = 999;

// Parses "1-3,5" against a document of `total` pages (null: unknown). Returns
// {ok: true, pages: count|null} or {ok: false, reason: "syntax" | "range"}.
export function parseRanges(text, total) {
  const spec = text.replace(/\s+/g, "");
  if (spec === "") return { ok: true, pages: total };
  if (spec.length > 200 || !/^\d+(-\d*)?(,\d+(-\d*)?)*$/.test(spec)) return { ok: false, reason: "syntax" };
  const picked = new Set();
  for (const part of spec.split(",")) {
    const [a, b] = part.split("-");
    const first = Number(a);
    const last = b === undefined ? first : (b === "" ? total ?? first : Number(b));
    if (first < 1 || last < first) return { ok: false, reason: "syntax" };
    if (total !== null && last > total) return { ok: false, reason: "range" };
    if (total !== null) for (let p = first; p <= last; p++) picked.add(p);
  }
  return { ok: true, pages: total === null ? null : picked.size };
}

// What the shop's printer can do. Uses the published capabilities when the shop has
// them, else everything the page knows.
export function shopOffer(shop) {
  const c = shop.capabilities || {};
  const list = (value, fallback) => (Array.isArray(value) && value.length ? value : fallback);
  return {
    media: list(c.media || c.paper_sizes, ["A4", "Letter", "A3", "Legal"]),
    color: c.color === false ? ["monochrome"] : ["monochrome", "color"],
    sides: c.duplex === false ? ["one-sided"] : ["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
    pagesPerSheet: list(c.pages_per_sheet, [1, 2, 4]).map(Number),
    orientation: ["portrait", "landscape"],
  };
}

export const manifestVersion = envelope.DEFAULT_OPTIONS ? 2 : 1;

// True when the manifest can carry a page range per file (format 2 and later).
export const perFileRanges = manifestVersion >= 2;

const V1_SIDES = { "one-sided": "none", "two-sided-long-edge": "long", "two-sided-short-edge": "short" };

// The manifestObject() input for these files (each {file, type, sha256, copies,
// pageRanges}) and job options ({color, sides, media, pagesPerSheet, orientation}).
export function manifestInput(contentKey, customer, files, job) {
  const entries = files.map((f) => ({
    name: f.file.name, type: f.type, size: f.file.size, sha256: f.sha256,
    copies: f.copies, page_ranges: f.pageRanges,
  }));
  if (perFileRanges) {
    return {
      contentKey, customer, files: entries,
      options: {
        color: job.color, sides: job.sides, media: job.media,
        pages_per_sheet: job.pagesPerSheet, orientation: job.orientation,
      },
    };
  }
  // Format 1 (until envelope.js writes format 2): one set of options for the whole
  // job, so the first file's copies and the first page range given apply to the job.
  const ranges = files.find((f) => f.pageRanges);
  return {
    contentKey, customer, files: entries,
    options: {
      copies: files[0].copies, color: job.color === "color" ? "color" : "bw",
      duplex: V1_SIDES[job.sides] || "none", pages: ranges ? ranges.pageRanges : "",
      paper: job.media,
    },
  };
}

// The itemised price, or null when the page cannot price this order (no price list,
// or a document whose pages only the shop can count): then it is priced at the counter.
export function priceOf(shop, files, job) {
  const pricing = globalThis.CloudTabPricing;
  if (!pricing || !shop.price_list || files.some((f) => f.pages === null)) return null;
  try {
    return pricing.priceJob(shop.price_list, files, job);
  } catch {
    return null;
  }
}
