// payment.js — "pay at the counter" on the status page: the amount due and the job code to
// show at the till. The amount is the kiosk's own when it sent one (job.amountDue, opened
// from the kiosk's sealed detail: {amount, currency} in the currency's minor unit),
// otherwise the page's price of the order from this tab's memory (summary.js); a document
// only the shop can count is "priced at the counter". Nothing here is sent anywhere.

import { _ } from "./i18n.js";
import { formatAmount } from "./pricing.js";

const SHOWN = new Set(["queued", "received", "printing", "completed"]);

// The amount due ({amount, currency}) or null: the kiosk's (job.amountDue, as {amount,
// currency} or as the sealed detail's amount_due {cents, currency}), else the page's total.
export function amountDue(record, job) {
  const kiosk = job && job.amountDue;
  const cents = kiosk && (Number.isInteger(kiosk.amount) ? kiosk.amount : kiosk.cents);
  if (kiosk && Number.isInteger(cents) && kiosk.currency) return { amount: cents, currency: kiosk.currency };
  const price = record && record.summary && record.summary.price;
  // a partial total (a converted document priced at the counter, summary.js) is not the amount due
  if (price && price.complete !== false && Number.isInteger(price.total) && price.currency) {
    return { amount: price.total, currency: price.currency };
  }
  return null;
}

// The sentence for the customer, e.g. "Pay €1.20 at the counter; show code K7Q2XM".
export function payText(code, due, locale = undefined) {
  if (!code) return "";
  if (!due) return _("Priced at the counter; show code %(code)s", { code });
  let price;
  try {
    price = formatAmount(due.amount, due.currency, locale);
  } catch {
    price = `${due.amount} ${due.currency}`;
  }
  return _("Pay %(price)s at the counter; show code %(code)s", { price, code });
}

// Fill (or hide) the page's pay line for this job state.
export function renderPayment(element, record, job) {
  if (!element) return;
  const show = SHOWN.has(job && job.state) && Boolean(record && record.code);
  element.hidden = !show;
  element.textContent = show ? payText(record.code, amountDue(record, job), document.documentElement.lang || undefined) : "";
}
