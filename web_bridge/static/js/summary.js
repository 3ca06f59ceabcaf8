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
  return words.join(" · ");
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
// {total, currency, lines: [{label, amount}]}}
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
      amount.textContent = money(line.amount, summary.price.currency);
      li.append(label, amount);
      lines.append(li);
    }
    container.append(list, options, lines);
    price.textContent = _("Total: %(price)s", { price: money(summary.price.total, summary.price.currency) });
  } else {
    container.append(list, options);
    price.textContent = _("Priced at the counter.");
  }
  container.append(price);
}
