// status.js — the job's status view: code in large type and as a QR, the steps, a live
// status line fed by events.js, the status link (copy/share), withdrawing with a
// confirmation, and the order summary from this tab's memory.

import { cancelJob, getJob, getShop } from "./api.js";
import { TERMINAL, watchJob } from "./events.js";
import { kindName } from "./format.js";
import { _ } from "./i18n.js";
import { showReceipt } from "./receipt.js";
import { renderPayment } from "./payment.js";
import { followDetail, reasonWords } from "./reply.js";
import { statusLink, updateJob } from "./store.js";
import { renderSummary } from "./summary.js";
import { waitText } from "./wait.js";

const $ = (id) => document.getElementById(id);
const ORDER = ["queued", "received", "printing", "completed"];

// The kiosk's reason in plain words: no preamble repeating "declined", no media types.
export function plainReason(reason) {
  let text = String(reason || "").trim();
  const preamble = /^(the shop declined this job|the shop'?s kiosk cannot print this job|the shop cannot print this job|this job was rejected|rejected|declined)\s*[:.,\u2013-]\s*/i;
  for (let i = 0; i < 4 && preamble.test(text); i++) text = text.replace(preamble, "");
  text = text.replace(/\b(?:declared|sent|given)\s+as\s+(?:an?\s+)?([a-z]+\/[\w.+-]+)/gi, (m, type) => _("sent as a %(kind)s", { kind: kindName(type) }));
  text = text.replace(/\b(application|image|text)\/[\w.+-]+/g, (type) => kindName(type));
  text = text.replace(/[.\s]+$/, "");
  return text ? text.charAt(0).toLocaleUpperCase() + text.slice(1) : "";
}

function describe(job, online) {
  switch (job.state) {
    case "uploading": return [_("Still uploading…"), _("This job was not sent completely.")];
    case "queued": return [
      _("Sent. Waiting for the shop to pick it up."),
      online === false ? _("The shop's screen is offline right now; your job waits for it.") : _("Show this code at the counter."),
    ];
    case "received": return [_("Received by the shop."), _("Show this code at the counter.")];
    case "printing": return [_("Printing now…"), _("Your pages are on their way.")];
    case "completed": return [_("Done. Your prints are ready."), _("The files have been deleted from the print service.")];
    case "rejected": {
      // The relay holds a fixed code (shown in the page's words); a kiosk before codes sent text.
      const words = reasonWords(job.reason);
      const reason = words ? "" : plainReason(job.reason);
      return [
        reason ? _("The shop declined this job: %(reason)s.", { reason }) : _("The shop declined this job."),
        words ? `${words} ${_("The files have been deleted.")}` : _("The files have been deleted. Ask at the counter, or send the files again."),
      ];
    }
    case "cancelled": return [_("You withdrew this job."), _("The files have been deleted.")];
    case "expired": return [_("This job expired before it was printed."), _("The files have been deleted. You can send them again.")];
    default: return [_("Checking the status…"), ""];
  }
}

export class StatusView {
  constructor(record) {
    this.record = record;
    this.controller = new AbortController();
    this.section = $("status-view");
    this.state = null;
  }

  async show() {
    const { record } = this;
    this.section.hidden = false;
    this.section.dataset.state = record.state || "checking";
    $("status-shop").textContent = record.shopName ? _("Sent to %(shop)s", { shop: record.shopName }) : "";
    if (record.code) this.showCode(record.code);
    const another = $("send-another");
    if (record.slug) {
      another.href = `/s/${encodeURIComponent(record.slug)}`
        + (record.setParam ? `#f=${record.setParam}` : record.keyParam ? `#k=${record.keyParam}` : "");
    }
    this.showLink();
    $("cancel-job").addEventListener("click", () => this.askWithdraw());
    $("withdraw-no").addEventListener("click", () => this.closeConfirm());
    $("withdraw-yes").addEventListener("click", () => this.cancel());
    if (record.summary) {
      renderSummary($("summary-lines"), record.summary);
      $("summary").hidden = false;
    }
    this.render({ state: record.state || "checking", reason: record.reason || "" });
    if (!record.shopName && record.slug) {
      getShop(record.slug).then((shop) => {
        updateJob(record.jobId, { shopName: shop.display_name });
        $("status-shop").textContent = _("Sent to %(shop)s", { shop: shop.display_name });
      }).catch(() => {});
    }
  }

  showCode(code) {
    $("job-code").textContent = code;
    const qr = $("job-qr");
    qr.src = `/api/qr/${encodeURIComponent(code)}.svg`;
    qr.hidden = false;
  }

  showLink() {
    const link = statusLink(this.record);
    $("status-link").value = link;
    $("share-box").hidden = false;
    $("copy-link").onclick = async () => {
      try {
        await navigator.clipboard.writeText(link);
      } catch {
        $("status-link").select();
        document.execCommand("copy");
      }
      $("copy-done").textContent = _("Link copied. Keep it private: it opens this job.");
    };
    if (navigator.share) {
      $("share-link").hidden = false;
      $("share-link").onclick = () => navigator.share({ title: _("My print job"), url: link }).catch(() => {});
    }
  }

  render(job) {
    const state = job.state;
    this.state = state;
    this.section.dataset.state = state;
    const [line, detail] = describe(job, this.record.online);
    $("status-line").textContent = line;
    $("status-detail").textContent = waitText(job) || detail;
    this.section.dataset.wait = (job.statement && job.statement.wait_reason) || "";
    this.checkReceipt(job);
    renderPayment($("pay-line"), this.record, job);
    // The kiosk's sealed detail (reply.js); its amount due goes on the pay line (payment.js).
    followDetail(this.record.jobId, job, $("status-detail")).then((opened) => {
      const due = opened && opened.amount_due;
      if (due && this.state === state) {
        renderPayment($("pay-line"), this.record, { ...job, amountDue: due });
      }
    }).catch(() => {});
    const reached = ORDER.indexOf(state);
    for (const li of $("steps").children) {
      const at = ORDER.indexOf(li.dataset.step);
      li.classList.toggle("done", reached >= 0 && at <= reached);
      li.classList.toggle("current", at === reached);
      if (at === reached) li.setAttribute("aria-current", "step");
      else li.removeAttribute("aria-current");
    }
    $("steps").classList.toggle("stopped", TERMINAL.has(state) && state !== "completed");
    const withdrawable = ["queued", "received"].includes(state);
    $("cancel-job").hidden = !withdrawable;
    if (!withdrawable) this.closeConfirm();
    $("send-another").hidden = !TERMINAL.has(state) || !this.record.slug;
    $("share-box").hidden = TERMINAL.has(state);
  }

  // Whether the shop's kiosk signed this state (receipt.js); the newest check wins.
  checkReceipt(job) {
    const box = $("receipt");
    if (!box) return;
    const turn = (this.receiptTurn = (this.receiptTurn || 0) + 1);
    if (!("statement" in job)) { // the state this tab remembered, not the relay's answer
      box.hidden = true;
      return;
    }
    const shown = { dataset: {}, textContent: "", hidden: true };
    showReceipt(shown, job, this.record, { fetchShop: getShop, translate: _ }).then(() => {
      if (turn !== this.receiptTurn) return;
      box.dataset.receipt = shown.dataset.receipt;
      this.section.dataset.receipt = shown.dataset.receipt; // an unconfirmed "Done" is not shown in green
      box.textContent = shown.textContent;
      box.hidden = shown.hidden;
    }, () => {});
  }

  async follow() {
    const { record } = this;
    if (!record.code) {
      try {
        const { job } = await getJob(record.jobId, record.token, this.controller.signal);
        updateJob(record.jobId, { code: job.job_code, state: job.state, reason: job.reason });
        this.record = { ...record, code: job.job_code };
        this.showCode(job.job_code);
        this.render(job);
      } catch (e) {
        if (e && e.name === "AbortError") return;
        this.fail(e);
        return;
      }
    }
    await watchJob(record.jobId, record.token, {
      signal: this.controller.signal,
      onJob: (job) => {
        updateJob(record.jobId, { state: job.state, reason: job.reason });
        this.render(job);
      },
      onMode: (mode) => { this.section.dataset.live = mode; },
      onError: (e) => this.fail(e),
    });
  }

  fail(e) {
    this.section.dataset.state = "gone";
    $("status-line").textContent = e.message;
    $("status-detail").textContent = "";
    $("cancel-job").hidden = true;
    $("share-box").hidden = true;
  }

  askWithdraw() {
    $("confirm-withdraw").hidden = false;
    $("cancel-job").hidden = true;
    $("withdraw-no").focus();
  }

  closeConfirm() {
    if ($("confirm-withdraw").hidden) return;
    $("confirm-withdraw").hidden = true;
    if (["queued", "received"].includes(this.state)) {
      $("cancel-job").hidden = false;
      $("cancel-job").focus();
    }
  }

  async cancel() {
    const button = $("withdraw-yes");
    button.disabled = true;
    try {
      const { job } = await cancelJob(this.record.jobId, this.record.token);
      updateJob(this.record.jobId, { state: job.state });
      $("confirm-withdraw").hidden = true;
      this.render(job);
    } catch (e) {
      $("status-detail").textContent = e.message;
    } finally {
      button.disabled = false;
    }
  }

  stop() {
    this.controller.abort();
  }
}

// For a status page opened without the job's link or this tab's record of the job.
export function showUnknownJob() {
  $("status-view").hidden = false;
  $("status-view").dataset.state = "unknown";
  $("job-code").textContent = "—";
  $("steps").hidden = true;
  $("status-line").textContent = _("To see this job, open the status link you copied or shared when you sent it.");
  $("status-detail").textContent = _("For your privacy, the job's key travels only in that link, never to the print service's logs.");
}
