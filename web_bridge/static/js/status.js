// status.js — the job's status view: code in large type and as a QR, the steps, and a
// live status line fed by events.js.

import { cancelJob } from "./api.js";
import { TERMINAL, watchJob } from "./events.js";
import { updateJob } from "./store.js";

const $ = (id) => document.getElementById(id);
const ORDER = ["queued", "received", "printing", "completed"];

function describe(job, online) {
  switch (job.state) {
    case "uploading": return ["Still uploading…", "This job was not sent completely."];
    case "queued": return [
      "Sent. Waiting for the shop to pick it up.",
      online === false ? "The shop's screen is offline right now; your job waits for it." : "Show this code at the counter.",
    ];
    case "received": return ["Received by the shop.", "Show this code at the counter."];
    case "printing": return ["Printing now…", "Your pages are on their way."];
    case "completed": return ["Done. Your prints are ready.", "The files have been deleted from the print service."];
    case "rejected": return [`The shop declined this job: ${job.reason || "no reason given"}.`, "The files have been deleted."];
    case "cancelled": return ["You withdrew this job.", "The files have been deleted."];
    case "expired": return ["This job expired before it was printed.", "The files have been deleted. You can send them again."];
    default: return ["Checking the status…", ""];
  }
}

export class StatusView {
  constructor(record) {
    this.record = record;
    this.controller = new AbortController();
    this.section = $("status-view");
  }

  show() {
    const { record } = this;
    this.section.hidden = false;
    this.section.dataset.state = record.state || "queued";
    $("status-shop").textContent = record.shopName ? `Sent to ${record.shopName}` : "";
    $("job-code").textContent = record.code;
    const qr = $("job-qr");
    qr.src = `/api/qr/${encodeURIComponent(record.code)}.svg`;
    qr.hidden = false;
    const another = $("send-another");
    if (record.slug) {
      another.href = `/s/${encodeURIComponent(record.slug)}` + (record.keyParam ? `#k=${record.keyParam}` : "");
    }
    $("cancel-job").addEventListener("click", () => this.cancel());
    this.render({ state: record.state || "queued", reason: record.reason || "" });
  }

  render(job) {
    const state = job.state;
    this.section.dataset.state = state;
    const [line, detail] = describe(job, this.record.online);
    $("status-line").textContent = line;
    $("status-detail").textContent = detail;
    const reached = ORDER.indexOf(state);
    for (const li of $("steps").children) {
      const at = ORDER.indexOf(li.dataset.step);
      li.classList.toggle("done", reached >= 0 && at <= reached);
      li.classList.toggle("current", at === reached);
    }
    $("steps").classList.toggle("stopped", TERMINAL.has(state) && state !== "completed");
    $("cancel-job").hidden = !["queued", "received"].includes(state);
    $("send-another").hidden = !TERMINAL.has(state) || !this.record.slug;
  }

  async follow() {
    const { record } = this;
    await watchJob(record.jobId, record.token, {
      signal: this.controller.signal,
      onJob: (job) => {
        updateJob(record.jobId, { state: job.state, reason: job.reason });
        this.render(job);
      },
      onMode: (mode) => { this.section.dataset.live = mode; },
      onError: (e) => {
        $("status-line").textContent = e.message;
        $("status-detail").textContent = "";
        $("cancel-job").hidden = true;
      },
    });
  }

  async cancel() {
    const button = $("cancel-job");
    button.disabled = true;
    try {
      const { job } = await cancelJob(this.record.jobId, this.record.token);
      updateJob(this.record.jobId, { state: job.state });
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

// For a status page opened without this tab's record of the job.
export function showUnknownJob() {
  $("status-view").hidden = false;
  $("job-code").textContent = "—";
  $("steps").hidden = true;
  $("status-line").textContent = "This job's status can only be seen in the browser tab it was sent from.";
  $("status-detail").textContent = "For your privacy, the job's access key is never stored outside that tab.";
}
