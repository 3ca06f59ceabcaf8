// chrome.js — what every page does: the language switch keeps the page's fragment (the
// shop key or the status link), which a plain "?lang=" link would drop.

for (const link of document.querySelectorAll("a[data-lang]")) {
  link.addEventListener("click", () => {
    const url = new URL(location.href);
    url.searchParams.set("lang", link.dataset.lang);
    link.href = url.toString();
  });
}
