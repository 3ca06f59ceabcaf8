// summary.js — the order in words: files, pages, copies, options and price. Shown above
// Send and, from the tab's memory (never from the relay), on the status page.

import { _, formatNumber } from "./i18n.js";
import { formatAmount } from "./pricing.js";

function optionWords(options) {
  const words = [];
  words.push(options.color === "color" ? _("Colour") : _("Black & white"));
  words.push({
    "one-sided": _("Single-sided"),
    "two-sided-long-edge": _("Double-sided, book style"),
    "two-sided-short-edge": _("Double-sided, flip short edge"),
  }[options.sides] || _("Single-sided"));
  words.push(options.media);
  if (options.pagesPerSheet > 1) words.push(_("%(n)s pages per sheet", { n: formatNumber(options.pagesPerSheet) }));
  words.push(options.orientation === "landscape" ? _("Landscape") : _("Portrait"));
  const photo = photoWords(options);
  if (photo) words.push(photo);
  return words.join(" · ");
}

// The photo layout in words ("Photos: 10 x 15 cm, 2 per sheet, fill"), or "" when the job has no
// photos or keeps the default (each photo fitted on its own page).
export function photoWords(options) {
  const { photoFit = "fit", photoSize = "page", photosPerSheet = 1 } = options;
  if (photoFit === "fit" && photoSize === "page" && photosPerSheet === 1) return "";
  const size = { "10x15": _("10 x 15 cm"), "4x6": _("4 x 6 in") }[photoSize] || _("page size");
  const parts = [size];
  if (photosPerSheet > 1) parts.push(_("%(n)s per sheet", { n: formatNumber(photosPerSheet) }));
  parts.push(photoFit === "fill" ? _("filling the space (edges cropped)") : _("whole photo"));
  return _("Photos: %(layout)s", { layout: parts.join(", ") });
}

// amount: in the currency's minor unit (pricing.js).
function money(amount, currency) {
  try {
    return formatAmount(amount, currency, document.documentElement.lang || "en");
  } catch {
    return `${amount} ${currency}`;
  }
}

// summary: {files: [{name, pages, copies, pageRanges}], options, price: null |
// {total, currency, complete, lines: [{label, amount (null: priced at the counter)}]}}
export function renderSummary(container, summary) {
  container.textContent = "";
  const list = document.createElement("ul");
  list.className = "summary-files";
  for (const f of summary.files) {
    const item = document.createElement("li");
    const name = document.createElement("span");
    name.className = "summary-name";
    name.dir = "auto";
    name.textContent = f.name;
    const what = document.createElement("span");
    what.className = "summary-what";
    const pages = f.pages === null || f.pages === undefined
      ? _("pages counted at the counter")
      : (f.pageRanges ? _("pages %(ranges)s", { ranges: f.pageRanges }) + " · " : "")
        + (f.pages === 1 ? _("1 page") : _("%(n)s pages", { n: formatNumber(f.pages) }));
    const copies = _("copies: %(n)s", { n: formatNumber(f.copies) });
    what.textContent = [pages, copies].join(" · ");
    item.append(name, what);
    list.append(item);
  }
  const options = document.createElement("p");
  options.className = "summary-options";
  options.textContent = optionWords(summary.options);
  const price = document.createElement("p");
  price.className = "summary-price";
  if (summary.price) {
    const lines = document.createElement("ul");
    lines.className = "price-lines";
    for (const line of summary.price.lines || []) {
      const li = document.createElement("li");
      const label = document.createElement("span");
      label.textContent = line.label;
      const amount = document.createElement("span");
      amount.textContent = line.amount === null || line.amount === undefined
        ? _("priced at the counter")
        : money(line.amount, summary.price.currency);
      li.append(label, amount);
      lines.append(li);
    }
    container.append(list, options, lines);
    const total = money(summary.price.total, summary.price.currency);
    price.textContent = summary.price.complete === false
      ? _("Total: %(price)s, plus the files priced at the counter.", { price: total })
      : _("Total: %(price)s", { price: total });
  } else {
    container.append(list, options);
    price.textContent = _("Priced at the counter.");
  }
  container.append(price);
}
