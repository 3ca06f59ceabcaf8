// pricing.js — the price before Send, with the kiosk's rules (kiosk/core/pricing.py).
// ES module, no dependencies, no eval. Both implementations pass tests/data/pricing_cases.json.
//
// Options use the manifest's words (envelope.js OPTION_WORDS): per job color, sides, media,
// pages_per_sheet, orientation, and for photos photo_fit, photo_size, photos_per_sheet (a photo
// laid out several to a sheet is still one page: the page passes pages = 1); per file copies and
// page_ranges. Amounts are integers in the
// currency's minor unit (cents).
//
// Exports:
//   PricingError        Error with .code: "page_range" | "not_offered" | "options"
//   pageRangeSpans(spec, pageCount|null) -> [[start, stop], ...]   0-based half-open, merged;
//       "" = all pages; parts "3", "1-4", "5-" (to the end), "-2" (from the start), spaces allowed.
//       pageCount null checks the syntax only.
//   parsePageRanges(spec, pageCount) -> [0-based page indexes]      countPages(spec, pageCount) -> n
//   canonicalPageRanges(spec, pageCount) -> "1-3,5"   the manifest form (docs/envelope.md §4)
//   checkOptions(options)                 throws PricingError("options") outside the vocabulary
//   sheetsFor(pages, duplex, copies, pagesPerSheet=1) -> sheets
//   priceListFrom(capabilities) -> {currency, prices:[{media,color,duplex,amount}]} | null
//       capabilities as the bridge serves them (GET /api/shops/<slug> .capabilities)
//   offered(capabilities) -> {media, color, sides, pages_per_sheet} the choices to show (null: any)
//   priceFile(pageCount|null, options, priceList) -> {pages, sheets, amount} | {atCounter: true}
//   quote([{pages: pageCount|null, options}], priceList) -> {lines, total, complete, currency}
//       options of each file = job options + that file's copies and page_ranges;
//       pages null: a document the kiosk converts, "priced at the counter".
//   formatAmount(amount, currency, locale?) -> "€1.10" (Intl.NumberFormat, the currency's minor unit)

const WORDS = {
  color: ["monochrome", "color"],
  sides: ["one-sided", "two-sided-long-edge", "two-sided-short-edge"],
  media: ["A4", "Letter", "A3", "Legal"],
  pages_per_sheet: [1, 2, 4],
  orientation: ["portrait", "landscape"],
  photo_fit: ["fit", "fill"],
  photo_size: ["page", "10x15", "4x6"],
  photos_per_sheet: [1, 2, 4],
};
const DEFAULTS = {
  copies: 1, page_ranges: "", color: "monochrome", sides: "one-sided", media: "A4", pages_per_sheet: 1,
  orientation: "portrait", photo_fit: "fit", photo_size: "page", photos_per_sheet: 1,
};
const MAX_COPIES = 999;
const MAX_RANGE_SPEC = 200;
const PART = /^\s*(\d+)?\s*(-)?\s*(\d+)?\s*$/;

export class PricingError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "PricingError";
    this.code = code;
  }
}

function rangeError(message) {
  throw new PricingError("page_range", message);
}

export function pageRangeSpans(spec, pageCount) {
  if (pageCount !== null && !(Number.isSafeInteger(pageCount) && pageCount >= 1)) rangeError("the document has no pages");
  const text = String(spec ?? "").trim();
  if (!text) return pageCount === null ? [] : [[0, pageCount]];
  if (text.length > MAX_RANGE_SPEC) rangeError("the page range is too long");
  const spans = [];
  for (const part of text.split(",")) {
    const match = PART.exec(part);
    if (!match || !part.trim()) rangeError(`'${part.trim()}' is not a page or range like 1-3`);
    const [, first, dash, last] = match;
    if (first === undefined && last === undefined) rangeError("'-' needs a page number");
    if (!dash && last !== undefined) rangeError(`'${part.trim()}' is not a page or range like 1-3`);
    const lo = first !== undefined ? Number(first) : 1;
    const end = pageCount !== null ? pageCount : lo;
    const hi = last !== undefined ? Number(last) : (dash ? end : lo);
    if (lo < 1 || hi < 1) rangeError("pages start at 1");
    if (lo > hi) rangeError(`range ${lo}-${hi} goes backwards`);
    if (pageCount !== null && hi > pageCount) rangeError(`page ${hi} does not exist (the document has ${pageCount})`);
    spans.push([lo - 1, hi]);
  }
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const merged = [];
  for (const [start, stop] of spans) {
    const top = merged[merged.length - 1];
    if (top && start <= top[1]) top[1] = Math.max(top[1], stop);
    else merged.push([start, stop]);
  }
  return merged;
}

export function parsePageRanges(spec, pageCount) {
  const out = [];
  for (const [start, stop] of pageRangeSpans(spec, pageCount)) for (let i = start; i < stop; i++) out.push(i);
  return out;
}

export function countPages(spec, pageCount) {
  return pageRangeSpans(spec, pageCount).reduce((n, [start, stop]) => n + stop - start, 0);
}

export function canonicalPageRanges(spec, pageCount) {
  const spans = pageRangeSpans(spec, pageCount);
  if (spans.length === 1 && spans[0][0] === 0 && spans[0][1] === pageCount) return "";
  return spans.map(([start, stop]) => (stop - start === 1 ? `${start + 1}` : `${start + 1}-${stop}`)).join(",");
}

export function checkOptions(options) {
  const o = { ...DEFAULTS, ...options };
  if (!Number.isSafeInteger(o.copies) || o.copies < 1 || o.copies > MAX_COPIES) {
    throw new PricingError("options", `copies must be 1 to ${MAX_COPIES}`);
  }
  for (const [key, allowed] of Object.entries(WORDS)) {
    if (!allowed.includes(o[key])) throw new PricingError("options", `unknown ${key} ${JSON.stringify(o[key])}`);
  }
  if (typeof o.page_ranges !== "string") throw new PricingError("options", "page_ranges must be a string");
  return o;
}

export function sheetsFor(pages, duplex, copies, pagesPerSheet = 1) {
  const sides = Math.ceil(pages / pagesPerSheet);
  return (duplex ? Math.ceil(sides / 2) : sides) * copies;
}

export function priceListFrom(capabilities) {
  if (!capabilities) return null;
  return { currency: capabilities.currency, prices: capabilities.prices.map((p) => ({ ...p })) };
}

export function offered(capabilities) {
  if (!capabilities) return null;
  const { media, color, sides, pages_per_sheet: pagesPerSheet } = capabilities;
  return { media: [...media], color: [...color], sides: [...sides], pages_per_sheet: [...pagesPerSheet] };
}

function perSheet(priceList, media, color, duplex) {
  const hit = priceList.prices.find((p) => p.media === media && p.color === color && p.duplex === duplex);
  if (!hit) {
    throw new PricingError("not_offered", `${media} ${color === "color" ? "colour" : "black-and-white"}${duplex ? " two-sided" : ""} is not offered`);
  }
  return hit.amount;
}

export function priceFile(pageCount, options, priceList) {
  const o = checkOptions(options);
  const duplex = o.sides !== "one-sided";
  const each = perSheet(priceList, o.media, o.color, duplex);
  if (pageCount === null || pageCount === undefined) return { atCounter: true };
  const pages = countPages(o.page_ranges, pageCount);
  const sheets = sheetsFor(pages, duplex, o.copies, o.pages_per_sheet);
  return { pages, sheets, amount: sheets * each };
}

export function quote(files, priceList) {
  const lines = files.map((f) => priceFile(f.pages, f.options, priceList));
  return {
    lines,
    total: lines.reduce((n, line) => n + (line.atCounter ? 0 : line.amount), 0),
    complete: lines.every((line) => !line.atCounter),
    currency: priceList.currency,
  };
}

export function formatAmount(amount, currency, locale = undefined) {
  const format = new Intl.NumberFormat(locale, { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(amount / 10 ** digits);
}
