// i18n.js — the page's words in the page's language. The bridge renders the current
// language's gettext catalogue (the same one its templates use) into <body
// data-messages>; a message missing there is shown in English.

function readCatalogue() {
  try {
    return JSON.parse(document.body.dataset.messages || "{}");
  } catch {
    return {};
  }
}

const catalogue = typeof document === "undefined" ? {} : readCatalogue();

export const lang = (typeof document !== "undefined" && document.documentElement.lang) || "en";

// gettext with Python-style named placeholders: _("Sent to %(shop)s", { shop }).
export function _(msgid, vars = null) {
  const text = catalogue[msgid] || msgid;
  if (!vars) return text;
  return text.replace(/%\((\w+)\)s/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

export function formatNumber(n, options = {}) {
  try {
    return new Intl.NumberFormat(lang, options).format(n);
  } catch {
    return String(n);
  }
}
