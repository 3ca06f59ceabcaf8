// reply.js — what only this page can read about its job. The page makes a P-256 reply key
// per job (kept with the job in store.js, so a reload still opens replies), puts the public
// half in the manifest, and opens the details the kiosk seals to it (docs/envelope.md §5.1,
// §5.2): which file and page a reject is about, page counts, the amount due, a note. The
// relay only ever holds the reject reason as a fixed code, shown here in the page's words.

import { b64urlDecode, b64urlEncode, newReplyKey, openReply } from "./envelope.js";
import { importPrivateKeyScalar } from "./hpke.js";
import { _, formatNumber } from "./i18n.js";
import { loadJob, updateJob } from "./store.js";

const VERSION = 1;

// The fixed reject codes (cloudtab_rpc/rejects.py) in the customer's words.
export function reasonWords(code) {
  switch (code) {
    case "altered": return _("Your job reached the shop altered or incomplete. Please send it again.");
    case "damaged": return _("A file of this job is damaged and cannot be printed.");
    case "unsupported": return _("A file of this job is of a type this shop cannot print.");
    case "password": return _("A file of this job is password-protected. Please send a copy without a password.");
    case "too-large": return _("This job is too large or too complex for this shop's kiosk.");
    case "pages": return _("The pages you asked for are not in the document. Please check the page range.");
    case "options": return _("The print options you asked for are not available at this shop.");
    case "printer": return _("The shop's printer could not print this job. Please ask at the counter.");
    case "counter": return _("Please come to the counter about this job.");
    case "old-key": return _("Your job was locked for a counter this shop no longer uses, so nobody there can open it. Please scan the shop's code again and send the files again.");
    case "internal": return _("The shop's kiosk could not handle this job. Please ask at the counter.");
    default: return "";
  }
}

// The public half (65 bytes) of this job's reply key, made once and kept in the job store.
export async function replyPublicKey(jobId) {
  const kept = loadJob(jobId)?.reply;
  if (kept && kept.d && kept.pub) return b64urlDecode(kept.pub);
  const pair = await newReplyKey();
  const jwk = await crypto.subtle.exportKey("jwk", pair.privateKey);
  updateJob(jobId, { reply: { d: jwk.d, pub: b64urlEncode(pair.publicKey) } });
  return pair.publicKey;
}

function count(value) {
  return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
}

// A version-1 detail from its JSON bytes (unknown keys ignored), or null.
export function parseDetail(bytes) {
  let data;
  try {
    data = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return null;
  }
  if (!data || typeof data !== "object" || data.v !== VERSION) return null;
  const out = {};
  if (typeof data.reason === "string") out.reason = data.reason;
  for (const key of ["file", "page", "file_pages"]) if (count(data[key]) !== undefined) out[key] = data[key];
  if (Array.isArray(data.files)) {
    out.files = data.files.filter((f) => f && count(f.pages) !== undefined)
      .map((f) => ({ pages: f.pages, converted: f.converted === true }));
  }
  const due = data.amount_due;
  if (due && count(due.cents) !== undefined && /^[A-Z]{3}$/.test(due.currency)) {
    out.amount_due = { cents: due.cents, currency: due.currency };
  }
  if (typeof data.note === "string" && data.note.trim()) out.note = data.note.slice(0, 500);
  return out;
}

// Opens a sealed detail (base64url, from the job's statement) with the job's stored reply
// key; the detail, or null when there is none, no key, or it does not open.
export async function openDetail(jobId, sealedB64) {
  const kept = loadJob(jobId)?.reply;
  if (!sealedB64 || !kept || !kept.d || !kept.pub) return null;
  try {
    const publicKey = b64urlDecode(kept.pub);
    const privateKey = await importPrivateKeyScalar(b64urlDecode(kept.d), publicKey);
    return parseDetail(await openReply({ privateKey, publicKey }, jobId, b64urlDecode(sealedB64)));
  } catch {
    return null;
  }
}

function aboutFile(detail) {
  const { file, page, file_pages: pages } = detail;
  const n = (v) => formatNumber(v, { useGrouping: false });
  if (detail.reason === "pages" && page !== undefined && pages !== undefined) {
    return file !== undefined
      ? _("File %(file)s: page %(page)s does not exist; the file's last page is %(pages)s.", { file: n(file), page: n(page), pages: n(pages) })
      : _("Page %(page)s does not exist; the document's last page is %(pages)s.", { page: n(page), pages: n(pages) });
  }
  if (file === undefined) return "";
  switch (detail.reason) {
    case "damaged":
      return page !== undefined
        ? _("File %(file)s: page %(page)s is damaged.", { file: n(file), page: n(page) })
        : _("File %(file)s is damaged and cannot be printed.", { file: n(file) });
    case "unsupported": return _("File %(file)s is of a type this shop cannot print.", { file: n(file) });
    case "password": return _("File %(file)s is password-protected.", { file: n(file) });
    case "too-large": return _("File %(file)s is too large or too complex for this shop's kiosk.", { file: n(file) });
    case "pages": return _("File %(file)s: the pages you asked for are not in this file.", { file: n(file) });
    default: return _("This is about file %(file)s.", { file: n(file) });
  }
}

// The lines a detail adds to the status view, in the page's words (the amount due is on
// the pay line: status.js hands it to payment.js).
export function detailLines(detail) {
  if (!detail) return [];
  const lines = [];
  const about = aboutFile(detail);
  if (about) lines.push(about);
  (detail.files || []).forEach((f, i) => {
    if (f.converted) {
      lines.push(_("File %(file)s was converted to PDF by the shop; pages: %(n)s.", { file: formatNumber(i + 1), n: formatNumber(f.pages) }));
    }
  });
  if (detail.note) lines.push(_("Note from the shop: %(note)s", { note: detail.note }));
  return lines;
}

// Shows the lines under `anchor` (a list made once, right after it).
export function showDetail(anchor, detail) {
  let list = document.getElementById("reply-detail");
  if (!list) {
    list = document.createElement("ul");
    list.id = "reply-detail";
    list.className = "reply-detail";
    anchor.after(list);
  }
  list.replaceChildren(...detailLines(detail).map((text) => {
    const li = document.createElement("li");
    li.textContent = text;
    return li;
  }));
  list.hidden = list.children.length === 0;
}

// The status view's hook: open the job's newest sealed detail (if any), merge it into what
// this tab already opened (kept in the store), and show the result.
export async function followDetail(jobId, job, anchor) {
  const record = loadJob(jobId) || {};
  let detail = record.detail || null;
  const sealed = job && job.statement && job.statement.sealed_detail;
  if (sealed && sealed !== record.detailSealed) {
    const opened = await openDetail(jobId, sealed);
    if (opened) {
      detail = { ...(detail || {}), ...opened };
      updateJob(jobId, { detail, detailSealed: sealed });
    }
  }
  if (detail && job && job.state !== "rejected") {
    detail = { ...detail };
    delete detail.reason;
    delete detail.file;
    delete detail.page;
    delete detail.file_pages;
  }
  showDetail(anchor, detail);
  return detail;
}
