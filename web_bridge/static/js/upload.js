// upload.js — the upload page: checks the connection and the shop's key, encrypts and
// uploads the files (resuming after a drop, a reload or a time offline), submits the
// sealed manifest, then follows the job's status. No inline script anywhere: this
// module is the page's only entry point.

import "./chrome.js";
import {
  b64urlDecode, b64urlEncode, ciphertextSize, deriveFileKey, fingerprint, manifestObject,
  newContentKey, parsePublicKey, sealManifest, sealManifestMulti,
} from "./envelope.js";
import { ApiError, cancelJob, createJob, getJob, getShop, submitJob } from "./api.js";
import { ScreenAwake } from "./awake.js";
import { JobForm } from "./form.js";
import { digestWords } from "./keywords.js";
import { fingerprintText, keySetFingerprint, shopKeySet } from "./keyset.js";
import { formatNumber, formatRemaining, hex, percent, sameBytes } from "./format.js";
import { _ } from "./i18n.js";
import { manifestInput, priceOf } from "./order.js";
import { StatusView, showUnknownJob } from "./status.js";
import { replyPublicKey } from "./reply.js";
import { allJobs, loadJob, readFragment, saveJob, statusFragment, updateJob } from "./store.js";
import { renderSummary } from "./summary.js";
import { recordsPerChunk, uploadFile } from "./uploader.js";

const $ = (id) => document.getElementById(id);
const app = $("app");

function showError(id, message) {
  const box = $(id);
  box.textContent = message;
  box.hidden = !message;
}

// WebCrypto exists only in a secure context (https://, or this device itself).
function secureEnough() {
  return window.isSecureContext && globalThis.crypto && globalThis.crypto.subtle;
}

function showInsecure() {
  for (const id of ["shop-card", "job-form", "status-view", "resume-box"]) {
    if ($(id)) $(id).hidden = true;
  }
  $("insecure").hidden = false;
  if (location.protocol === "http:") {
    const secure = `https://${location.host}${location.pathname}${location.search}${location.hash}`;
    $("insecure-link").href = secure;
    $("insecure-link").textContent = `https://${location.host}${location.pathname}`;
    $("insecure-https").hidden = false;
  }
  app.dataset.ready = "insecure";
}

// Decides which key to seal to and which key set the job is sent under. Returns
// {key, keyParam, setParam, signingKeys} or null when upload is refused. The QR's #f= pins
// the shop's key set (every kiosk's encryption and signing key: keyset.js); an older
// poster's #k= pins one key and no signing key (receipts then cannot be checked).
async function checkKey(shop) {
  const box = $("key-box");
  const relayKey = await parsePublicKey(shop.public_key);
  const { keyParam: given, setParam } = readFragment();
  let records = shopKeySet(shop);
  const relayDigest = await keySetFingerprint(records);
  let digest = relayDigest;
  let key = relayKey;
  const refuse = (title, error) => {
    box.classList.add("mismatch");
    box.open = true;
    $("key-icon").textContent = "✕";
    $("key-title").textContent = title;
    showError("key-error", error);
    return null;
  };
  const damaged = () => {
    $("fingerprint").textContent = _("invalid");
    return refuse(_("The shop key in this link is damaged"), _("The shop key in this link is damaged. Scan the shop's QR code again."));
  };
  if (setParam !== null) {
    try {
      digest = b64urlDecode(setParam);
    } catch {
      return damaged();
    }
    if (digest.length !== 32) return damaged();
  } else if (given !== null) {
    try {
      key = await parsePublicKey(given);
    } catch {
      return damaged();
    }
    // An old poster of one counter pins that counter's key: fine if the relay lists it.
    const counter = records.find((r) => sameBytes(r.encryptionKey, key));
    if (counter) {
      records = [counter];
    } else {
      records = [{ encryptionKey: key, signingKey: new Uint8Array(0) }];
    }
    digest = await keySetFingerprint(records);
  }
  $("fingerprint").textContent = fingerprintText(digest);
  digestWords(digest).then((words) => { $("key-words").textContent = words.join(" "); }, () => {});
  const listed = shopKeySet(shop).some((r) => sameBytes(r.encryptionKey, key));
  const wrongKey = setParam !== null ? !sameBytes(digest, relayDigest) : given !== null && !listed;
  if (wrongKey) {
    $("key-explain").textContent = _("This is the key from the shop's QR code.");
    return refuse(_("Do not send: wrong shop key"), _("Upload refused: the key in the shop's QR code does not match the key the print service gives for this shop. Your files could be read by someone else. Please tell the shop."));
  }
  const signingKeys = records.map((r) => r.signingKey).filter((k) => k.length);
  if (given !== null || setParam !== null) {
    box.classList.add("verified");
    $("key-icon").textContent = "✓";
    $("key-title").textContent = _("Shop key verified");
    $("key-explain").textContent = _("This key came with the shop's QR code and the print service confirms it. Only this shop's screen can open your files.");
  } else {
    box.classList.add("unverified");
    box.open = true;
    $("key-icon").textContent = "!";
    $("key-title").textContent = _("Check the shop's key before sending");
    $("key-explain").textContent = _("This page was opened without the shop's QR code. Compare these characters with the fingerprint shown on the shop's screen. If they differ, do not send.");
  }
  // An old #k= poster pins no signing key: its receipts cannot be checked.
  // Seal to the keys the customer can trust: the pinned key set (#f=, or the fingerprint shown
  // for comparison without a fragment: every kiosk of the shop), or an old poster's one key (#k=).
  const keys = records.map((r) => r.encryptionKey);
  return {
    // An old #k= poster pins no key set either: its status link carries none (no f=).
    key: keys[0], keys, keyParam: given, setParam: setParam === null && given !== null ? null : b64urlEncode(relayDigest),
    signingKeys: setParam === null && given !== null ? [] : signingKeys.map(b64urlEncode),
  };
}

// Upload progress across all files, with a time estimate from the recent rate.
class Progress {
  constructor(sizes) {
    this.sizes = sizes;
    this.done = sizes.map(() => 0);
    this.total = sizes.reduce((a, b) => a + b, 0);
    this.samples = [];
    this.shownEta = "";
    this.etaAt = 0;
  }

  update(index, bytes) {
    this.done[index] = bytes;
    const sum = this.done.reduce((a, b) => a + b, 0);
    const now = performance.now();
    this.samples.push([now, sum]);
    while (this.samples.length > 2 && now - this.samples[0][0] > 15000) this.samples.shift();
    $("overall-bar").value = Math.floor((sum / Math.max(1, this.total)) * 1000);
    const [t0, b0] = this.samples[0];
    if (now - this.etaAt > 1000 && now - t0 > 1500 && sum > b0) {
      const rate = (sum - b0) / ((now - t0) / 1000);
      this.shownEta = formatRemaining((this.total - sum) / rate);
      this.etaAt = now;
    }
    return { sum, percent: percent(sum, this.total), eta: this.shownEta };
  }
}

function leaveWarning(e) {
  e.preventDefault();
  e.returnValue = "";
  return "";
}

class Sender {
  constructor(shop, keyInfo, form) {
    this.shop = shop;
    this.key = keyInfo.key;
    this.keys = keyInfo.keys;
    this.keyParam = keyInfo.keyParam;
    this.setParam = keyInfo.setParam;
    this.signingKeys = keyInfo.signingKeys;
    this.form = form;
    this.attempt = null; // {jobId, token, code, contentKey, files, digests, chunkLimit}
    this.pending = null; // a stored record of an upload interrupted by a reload
    this.controller = null;
    this.awake = new ScreenAwake();
    this.retryWhenOnline = null;
  }

  summary() {
    const files = this.form.orderFiles();
    const job = this.form.jobOptions();
    return {
      files: files.map((f) => ({ name: f.file.name, pages: f.pages, copies: f.copies, pageRanges: f.pageRanges })),
      options: job,
      price: priceOf(this.shop, files, job),
    };
  }

  showOrder() {
    if (!this.form.entries.length) {
      $("order-box").hidden = true;
      return;
    }
    renderSummary($("order-lines"), this.summary());
    $("order-box").hidden = false;
  }

  busy(on) {
    if (on) {
      window.addEventListener("beforeunload", leaveWarning);
      this.awake.hold();
    } else {
      window.removeEventListener("beforeunload", leaveWarning);
      this.awake.release();
    }
    app.dataset.uploading = on ? "yes" : "no";
  }

  async send() {
    const problem = this.form.problems();
    if (problem) {
      showError("form-error", problem);
      return;
    }
    showError("form-error", "");
    if (this.retryWhenOnline) {
      window.removeEventListener("online", this.retryWhenOnline);
      this.retryWhenOnline = null;
    }
    this.controller = new AbortController();
    const { signal } = this.controller;
    this.form.lock(true);
    $("send-button").disabled = true;
    $("cancel-upload").hidden = false;
    $("overall").hidden = false;
    this.busy(true);
    try {
      $("send-button").textContent = _("Sending…");
      $("upload-line").textContent = _("Preparing your files…");
      const digests = await this.form.digests();
      let files = this.form.files();
      let askFirst = false;
      if (this.attempt && !(this.attempt.files.length === files.length && this.attempt.files.every((f, i) => f === files[i]))) {
        await this.withdraw();
      }
      if (!this.attempt && this.pending) {
        files = this.matchPending(files, digests);
        askFirst = true;
      }
      if (this.attempt) askFirst = true;
      if (!this.attempt) await this.start(files, digests, signal);
      const { jobId, token, contentKey, chunkLimit } = this.attempt;
      const sizes = this.attempt.files.map((f) => ciphertextSize(f.size));
      const progress = new Progress(sizes);
      const records = recordsPerChunk(chunkLimit, this.shop.limits.max_chunk_bytes);
      for (let i = 0; i < this.attempt.files.length; i++) {
        const fileKey = await deriveFileKey(contentKey, i);
        await uploadFile({
          jobId, token, index: i, file: this.attempt.files[i], fileKey, signal, askFirst, records,
          onProgress: (done, total, state) => {
            const shown = progress.update(i, done);
            const note = state === "offline" ? _("waiting for the network")
              : state === "retrying" ? _("reconnecting…") : "";
            this.form.progress(this.entryIndex(i), done, total, note);
            $("upload-line").textContent = state === "offline"
              ? _("You are offline. The upload continues by itself when the network is back.")
              : state === "retrying"
                ? _("Connection lost. Trying again; the upload continues where it stopped.")
                : _("Encrypting and sending file %(i)s of %(n)s: %(percent)s", { i: formatNumber(i + 1), n: formatNumber(this.attempt.files.length), percent: formatNumber(shown.percent / 100, { style: "percent" }) })
                  + (shown.eta ? ` · ${shown.eta}` : "");
            updateJob(jobId, { percent: shown.percent });
          },
        });
      }
      $("upload-line").textContent = _("Sealing the job description…");
      const ordered = this.orderedFiles();
      const replyKey = await replyPublicKey(jobId);
      const manifest = manifestObject({ ...manifestInput(contentKey, this.form.customer(), ordered, this.form.jobOptions()), replyKey });
      // One key: the single-recipient form every kiosk opens; several: one per counter (§5.2).
      const sealed = this.keys.length > 1
        ? await sealManifestMulti(this.keys, jobId, manifest)
        : await sealManifest(this.key, jobId, manifest);
      const manifestHash = b64urlEncode(new Uint8Array(await crypto.subtle.digest("SHA-256", sealed)));
      updateJob(jobId, { manifestHash });
      const submitted = await submitJob(jobId, token, sealed, signal);
      const record = { ...loadJob(jobId), state: submitted.job.state, summary: this.summary() };
      delete record.contentKey;
      delete record.files;
      saveJob(record);
      this.attempt = null;
      this.pending = null;
      this.busy(false);
      history.replaceState(null, "", `/j/${encodeURIComponent(jobId)}${statusFragment(record)}`);
      for (const id of ["job-form", "shop-card", "resume-box"]) $(id).hidden = true;
      const view = new StatusView(record);
      view.show();
      view.follow();
      $("status-view").scrollIntoView();
    } catch (e) {
      this.busy(Boolean(this.attempt) && !(e && e.name === "AbortError"));
      if (e && e.name === "AbortError") return;
      showError("form-error", e instanceof ApiError || e instanceof MismatchError ? e.message : _("Something went wrong: %(problem)s", { problem: e.message }));
      const canResume = Boolean(this.attempt);
      $("upload-line").textContent = canResume ? _("The upload stopped. It continues where it stopped when you press “Try again”, or by itself when the network is back.") : "";
      $("send-button").textContent = canResume ? _("Try again") : _("Send securely");
      this.form.lock(canResume);
      $("send-button").disabled = false;
      $("cancel-upload").hidden = !canResume;
      if (canResume) {
        this.retryWhenOnline = () => { this.retryWhenOnline = null; this.send(); };
        window.addEventListener("online", this.retryWhenOnline, { once: true });
      }
    }
  }

  // Index of the form entry that holds job file i (the picked order may differ on resume).
  entryIndex(i) {
    const file = this.attempt.files[i];
    return this.form.entries.findIndex((e) => e.file === file);
  }

  orderedFiles() {
    const byFile = new Map(this.form.orderFiles().map((f) => [f.file, f]));
    return this.attempt.files.map((file) => byFile.get(file));
  }

  // The picked files in the interrupted job's order, each checked by its SHA-256.
  matchPending(files, digests) {
    const stored = this.pending.files;
    if (stored.length !== files.length) throw new MismatchError();
    const ordered = stored.map((s) => {
      const i = digests.findIndex((d, k) => d === s.sha256 && files[k].size === s.size);
      if (i < 0) throw new MismatchError();
      return files[i];
    });
    const p = this.pending;
    this.attempt = {
      jobId: p.jobId, token: p.token, code: p.code, contentKey: b64urlDecode(p.contentKey),
      files: ordered, digests: stored.map((s) => s.sha256), chunkLimit: p.chunkLimit,
    };
    return ordered;
  }

  async start(files, digests, signal) {
    const fp = hex(await fingerprint(this.key));
    const created = await createJob(this.shop.slug, files.map((f) => ciphertextSize(f.size)), fp, signal);
    const job = created.job;
    const contentKey = newContentKey();
    // Kept in this tab only, so that a reload can resume the upload (see resumeOffer).
    saveJob({
      jobId: job.job_id, token: created.customer_token, code: job.job_code, slug: this.shop.slug,
      shopName: this.shop.display_name, keyParam: this.keyParam, online: this.shop.online, state: "uploading",
      setParam: this.setParam, signingKeys: this.signingKeys,
      contentKey: b64urlEncode(contentKey), chunkLimit: created.max_chunk_bytes,
      files: files.map((f, i) => ({ name: f.name, size: f.size, sha256: digests[i] })),
    });
    this.attempt = {
      jobId: job.job_id, token: created.customer_token, code: job.job_code, contentKey, files, digests,
      chunkLimit: created.max_chunk_bytes,
    };
  }

  async withdraw() {
    const attempt = this.attempt || this.pending;
    this.attempt = null;
    this.pending = null;
    if (!attempt) return;
    updateJob(attempt.jobId, { state: "cancelled", contentKey: null });
    try {
      await cancelJob(attempt.jobId, attempt.token);
    } catch {
      // The relay expires abandoned uploads anyway.
    }
  }

  async cancel() {
    if (this.controller) this.controller.abort();
    if (this.retryWhenOnline) window.removeEventListener("online", this.retryWhenOnline);
    this.retryWhenOnline = null;
    await this.withdraw();
    this.busy(false);
    this.form.lock(false);
    for (let i = 0; i < this.form.entries.length; i++) this.form.progress(i, 0, 1);
    $("overall").hidden = true;
    $("cancel-upload").hidden = true;
    $("send-button").textContent = _("Send securely");
    $("send-button").disabled = false;
    $("upload-line").textContent = _("Upload cancelled. Nothing was sent to the shop.");
  }
}

class MismatchError extends Error {
  constructor() {
    super(_("These are not the same files as the interrupted upload. Choose the same files again, or press “Start over”."));
    this.name = "MismatchError";
  }
}

// An upload of this tab interrupted by a reload: offer to continue it.
async function resumeOffer(slug, sender) {
  const record = allJobs().find((r) => r.slug === slug && r.state === "uploading" && r.contentKey && r.files);
  if (!record) return;
  sender.pending = record;
  let done = record.percent || 0;
  try {
    const { job } = await getJob(record.jobId, record.token);
    if (job.state !== "uploading") {
      updateJob(record.jobId, { state: job.state, contentKey: null });
      sender.pending = null;
      return;
    }
    const size = job.files.reduce((a, f) => a + f.size, 0);
    done = percent(job.files.reduce((a, f) => a + f.committed_size, 0), size);
  } catch {
    // Offline or gone: offer anyway; Send will say what is wrong.
  }
  $("resume-text").textContent = _("The upload stopped at %(percent)s when the page was reloaded. To continue where it stopped, choose the same files again (%(names)s) and press Send.",
    { percent: formatNumber(done / 100, { style: "percent" }), names: record.files.map((f) => f.name).join(", ") });
  $("resume-box").hidden = false;
  $("resume-discard").addEventListener("click", async () => {
    await sender.withdraw();
    $("resume-box").hidden = true;
  }, { once: true });
}

async function uploadPage(slug) {
  let shop;
  try {
    shop = await getShop(slug);
  } catch (e) {
    $("key-title").textContent = _("The shop's key could not be checked");
    showError("key-error", e.message);
    app.dataset.ready = "error";
    return;
  }
  const keyInfo = await checkKey(shop);
  if (!keyInfo) {
    $("job-form").classList.add("blocked");
    $("send-button").disabled = true;
    for (const node of $("job-form").querySelectorAll("input, select, textarea, button")) node.disabled = true;
    app.dataset.ready = "refused";
    return;
  }
  let sender = null;
  const form = new JobForm(shop, () => {
    showError("form-error", form.entries.length ? form.problems() : "");
    $("send-button").disabled = form.entries.length === 0 || form.locked;
    if (sender) sender.showOrder();
  });
  sender = new Sender(shop, keyInfo, form);
  $("job-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sender.send();
  });
  $("cancel-upload").addEventListener("click", () => sender.cancel());
  await resumeOffer(slug, sender);
  app.dataset.ready = "yes";
}

function statusPage(jobId) {
  const given = readFragment();
  let record = loadJob(jobId);
  if (given.token && (!record || record.token !== given.token)) {
    record = {
      jobId, token: given.token, slug: given.slug, keyParam: given.keyParam, state: null,
      setParam: given.setParam, manifestHash: given.manifestHash,
    };
    saveJob(record);
  }
  if (!record) {
    showUnknownJob();
    app.dataset.ready = "unknown";
    return;
  }
  if (!given.token) history.replaceState(null, "", `/j/${encodeURIComponent(jobId)}${statusFragment(record)}`);
  const view = new StatusView(record);
  view.show();
  view.follow();
  app.dataset.ready = "yes";
}

if (!secureEnough()) showInsecure();
else if (app.dataset.jobId) statusPage(app.dataset.jobId);
else if (app.dataset.slug) uploadPage(app.dataset.slug);

