// upload.js — the upload page: checks the shop's key, encrypts and uploads the files,
// submits the sealed manifest, then follows the job's status. No inline script anywhere:
// this module is the page's only entry point.

import {
  ciphertextSize, deriveFileKey, fingerprint, fingerprintDisplay, manifestObject, newContentKey,
  parsePublicKey, sealManifest, sha256Hex,
} from "./envelope.js";
import { ApiError, cancelJob, createJob, getShop, submitJob } from "./api.js";
import { JobForm } from "./form.js";
import { hex, mediaType, sameBytes } from "./format.js";
import { StatusView, showUnknownJob } from "./status.js";
import { allJobs, loadJob, saveJob, updateJob } from "./store.js";
import { uploadFile } from "./uploader.js";

const $ = (id) => document.getElementById(id);
const app = $("app");

function showError(id, message) {
  const box = $(id);
  box.textContent = message;
  box.hidden = !message;
}

function fragmentKey() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return params.get("k");
}

// Decides which key to seal to. Returns {key, keyParam} or null when upload is refused.
async function checkKey(shop) {
  const relayKey = await parsePublicKey(shop.public_key);
  const given = fragmentKey();
  let key = relayKey;
  if (given !== null) {
    try {
      key = await parsePublicKey(given);
    } catch {
      $("fingerprint").textContent = "invalid";
      showError("key-error", "The shop key in this link is damaged. Scan the shop's QR code again.");
      return null;
    }
  }
  $("fingerprint").textContent = await fingerprintDisplay(key);
  if (given !== null && !sameBytes(key, relayKey)) {
    $("key-box").classList.add("mismatch");
    $("key-explain").textContent = "This is the key from the shop's QR code.";
    showError("key-error",
      "Upload refused: the key in the shop's QR code does not match the key the print service gives for this shop. "
      + "Your files could be read by someone else. Please tell the shop.");
    return null;
  }
  if (given !== null) {
    $("key-box").classList.add("verified");
    $("key-explain").textContent = "This key came with the shop's QR code and the print service confirms it. "
      + "Only this shop's screen can open your files.";
  } else {
    $("key-box").classList.add("unverified");
    $("key-explain").textContent = "Before sending, compare these characters with the fingerprint shown on the shop's screen. "
      + "If they differ, do not send.";
  }
  return { key, keyParam: given };
}

// Withdraws jobs of this tab that were created but never sent (a reload mid-upload).
function cleanUpAbandoned(slug) {
  for (const record of allJobs()) {
    if (record.slug === slug && record.state === "uploading") {
      cancelJob(record.jobId, record.token).catch(() => {});
      updateJob(record.jobId, { state: "cancelled" });
    }
  }
}

class Sender {
  constructor(shop, keyInfo, form) {
    this.shop = shop;
    this.key = keyInfo.key;
    this.keyParam = keyInfo.keyParam;
    this.form = form;
    this.attempt = null; // {job, token, contentKey, files, digests}
    this.controller = null;
  }

  async send() {
    const problem = this.form.problems();
    if (problem) {
      showError("form-error", problem);
      return;
    }
    showError("form-error", "");
    this.controller = new AbortController();
    const { signal } = this.controller;
    this.form.lock(true);
    $("send-button").disabled = true;
    $("cancel-upload").hidden = false;
    try {
      const files = this.form.files();
      const resuming = this.attempt && this.attempt.files.length === files.length
        && this.attempt.files.every((f, i) => f === files[i]);
      if (!resuming) await this.start(files, signal);
      const { job, token, contentKey, digests } = this.attempt;
      for (let i = 0; i < files.length; i++) {
        $("upload-line").textContent = `Encrypting and sending file ${i + 1} of ${files.length}…`;
        const fileKey = await deriveFileKey(contentKey, i);
        await uploadFile({
          jobId: job.job_id, token, index: i, file: files[i], fileKey, signal, askFirst: resuming,
          onProgress: (done, total, retry) => {
            this.form.progress(i, done, total, retry ? "reconnecting…" : "");
            $("upload-line").textContent = retry
              ? `Connection lost. Trying again (attempt ${retry}); the upload continues where it stopped.`
              : `Encrypting and sending file ${i + 1} of ${files.length}…`;
          },
        });
      }
      $("upload-line").textContent = "Sealing the job description…";
      const manifest = manifestObject({
        contentKey,
        customer: this.form.customer(),
        files: files.map((f, i) => ({ name: f.name, type: mediaType(f), size: f.size, sha256: digests[i] })),
        options: this.form.options(),
      });
      const sealed = await sealManifest(this.key, job.job_id, manifest);
      const submitted = await submitJob(job.job_id, token, sealed, signal);
      const record = { ...loadJob(job.job_id), state: submitted.job.state };
      saveJob(record);
      this.attempt = null;
      history.replaceState(null, "", `/j/${encodeURIComponent(job.job_id)}`);
      $("job-form").hidden = true;
      $("shop-card").hidden = true;
      const view = new StatusView(record);
      view.show();
      view.follow();
    } catch (e) {
      if (e && e.name === "AbortError") return;
      showError("form-error", e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`);
      $("upload-line").textContent = this.attempt ? "Press “Try again” to continue where the upload stopped." : "";
      $("send-button").textContent = this.attempt ? "Try again" : "Send securely";
      this.form.lock(Boolean(this.attempt));
      $("send-button").disabled = false;
      $("cancel-upload").hidden = !this.attempt;
    }
  }

  async start(files, signal) {
    if (this.attempt) await this.withdraw();
    $("upload-line").textContent = "Preparing your files…";
    const digests = [];
    for (const f of files) digests.push(await sha256Hex(f, { signal }));
    const sizes = files.map((f) => f.size);
    const fp = hex(await fingerprint(this.key));
    const created = await createJob(this.shop.slug, sizes.map(ciphertextSize), fp, signal);
    const job = created.job;
    saveJob({
      jobId: job.job_id, token: created.customer_token, code: job.job_code, slug: this.shop.slug,
      shopName: this.shop.display_name, keyParam: this.keyParam, online: this.shop.online, state: "uploading",
    });
    this.attempt = { job, token: created.customer_token, contentKey: newContentKey(), files, digests };
  }

  async withdraw() {
    const attempt = this.attempt;
    this.attempt = null;
    if (!attempt) return;
    updateJob(attempt.job.job_id, { state: "cancelled" });
    try {
      await cancelJob(attempt.job.job_id, attempt.token);
    } catch {
      // The relay expires abandoned uploads anyway.
    }
  }

  async cancel() {
    if (this.controller) this.controller.abort();
    await this.withdraw();
    this.form.lock(false);
    for (let i = 0; i < this.form.entries.length; i++) this.form.progress(i, 0, 1);
    $("cancel-upload").hidden = true;
    $("send-button").textContent = "Send securely";
    $("send-button").disabled = false;
    $("upload-line").textContent = "Upload cancelled. Nothing was sent to the shop.";
  }
}

async function uploadPage(slug) {
  cleanUpAbandoned(slug);
  let shop;
  try {
    shop = await getShop(slug);
  } catch (e) {
    showError("key-error", e.message);
    return;
  }
  const keyInfo = await checkKey(shop);
  if (!keyInfo) {
    $("job-form").classList.add("blocked");
    $("send-button").disabled = true;
    for (const el of $("job-form").querySelectorAll("input, select, textarea, button")) el.disabled = true;
    app.dataset.ready = "refused";
    return;
  }
  const form = new JobForm(shop, () => {
    showError("form-error", form.entries.length ? form.problems() : "");
    $("send-button").disabled = form.entries.length === 0;
  });
  const sender = new Sender(shop, keyInfo, form);
  $("job-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sender.send();
  });
  for (const id of ["opt-pages", "opt-copies"]) {
    $(id).addEventListener("change", () => showError("form-error", form.entries.length ? form.problems() : ""));
  }
  $("cancel-upload").addEventListener("click", () => sender.cancel());
  app.dataset.ready = "yes";
}

function statusPage(jobId) {
  const record = loadJob(jobId);
  if (!record) {
    showUnknownJob();
    app.dataset.ready = "unknown";
    return;
  }
  const view = new StatusView(record);
  view.show();
  view.follow();
  app.dataset.ready = "yes";
}

if (app.dataset.jobId) statusPage(app.dataset.jobId);
else if (app.dataset.slug) uploadPage(app.dataset.slug);
