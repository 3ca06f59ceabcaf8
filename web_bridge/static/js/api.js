// api.js — the page's client of the bridge's JSON API.
// The customer token always travels in the Authorization header, never in a URL.

import { _ } from "./i18n.js";

export class ApiError extends Error {
  // status: HTTP status (0 for a network failure); code: machine error code; body: JSON body.
  constructor(status, code, message, body = {}) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.body = body;
  }

  // True when trying again later may work (network, 5xx, 429).
  get retryable() {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

// The bridge's error codes in the page's language (the bridge's own words are English).
function messageOf(code, fallback) {
  switch (code) {
    case "network": return _("No connection to the print service. Check your network.");
    case "shop_not_found": return _("This shop was not found. Scan the QR code at the counter again.");
    case "job_not_found": case "not_found": return _("This job was not found. It may have expired.");
    case "unauthorized": case "forbidden": return _("This job cannot be opened from this link.");
    case "expired": return _("This job has expired and was deleted.");
    case "too_many_files": return _("Too many files for this shop. Remove some and try again.");
    case "file_too_large": case "job_too_large": case "too_large": return _("The files are larger than this shop accepts.");
    case "key_changed": return _("The shop's key has changed. Reload the page and compare the fingerprint with the one on the shop's screen.");
    case "too_many_requests": case "http_429": return _("Too many new jobs from your network. Please wait a minute and try again.");
    case "already_finished": return _("This job is already finished.");
    case "incomplete": return _("Some files are not completely uploaded yet.");
    case "unavailable": case "timeout": case "relay_error": case "internal":
      return _("The print service is busy or unreachable. Please try again in a moment.");
    case "chunk_too_large": case "http_413": return _("The network refused a part of the upload as too large.");
    default: return fallback || _("Something went wrong. Please try again.");
  }
}

function apiError(status, data) {
  const code = data.error || `http_${status}`;
  return new ApiError(status, code, messageOf(code, data.message), data);
}

// A request that hangs on a dead connection gives up after this and counts as a
// network failure (so the page retries instead of waiting for ever).
const CALL_TIMEOUT_MS = 30000;

function withTimeout(signal, ms) {
  if (typeof AbortSignal.timeout !== "function" || typeof AbortSignal.any !== "function") return signal;
  const timeout = AbortSignal.timeout(ms);
  return signal ? AbortSignal.any([signal, timeout]) : timeout;
}

async function call(method, path, { token = null, json = undefined, body = undefined, signal = undefined, headers = {} } = {}) {
  const init = {
    method, headers: { Accept: "application/json", ...headers }, signal: withTimeout(signal, CALL_TIMEOUT_MS),
    cache: "no-store", credentials: "same-origin",
  };
  if (token) init.headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(json);
  } else if (body !== undefined) {
    init.headers["Content-Type"] = "application/octet-stream";
    init.body = body;
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (e) {
    if (e && e.name === "AbortError" && signal && signal.aborted) throw e;
    throw apiError(0, { error: "network" });
  }
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  if (!response.ok) throw apiError(response.status, data);
  return data;
}

const enc = encodeURIComponent;

export function getShop(slug, signal) {
  return call("GET", `/api/shops/${enc(slug)}`, { signal });
}

export function createJob(shop, fileSizes, keyFingerprintHex, signal) {
  return call("POST", "/api/jobs", { json: { shop, file_sizes: fileSizes, key_fingerprint: keyFingerprintHex }, signal });
}

// Longest wait for any upload progress or answer before a chunk counts as lost.
const STALL_MS = 60000;

// PUT one chunk with XMLHttpRequest, the only browser API that reports upload progress:
// onSent(bytesSentOfThisChunk) is called as the body goes out.
export function putChunk(jobId, token, index, offset, bytes, signal, onSent = () => {}) {
  // A Blob body: Chromium uploads it about ten times faster than a typed array
  // (measured here: ~15 ms against ~150 ms per MiB to 127.0.0.1).
  const body = new Blob([bytes], { type: "application/octet-stream" });
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("Aborted", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    let lost = false;
    // A phone that drops off the network (or a connection that stalls) may leave the
    // request hanging for minutes: give it up at once, as a network failure.
    const giveUp = () => {
      lost = true;
      xhr.abort();
    };
    let stall = setTimeout(giveUp, STALL_MS);
    const abort = () => xhr.abort();
    const done = () => {
      clearTimeout(stall);
      window.removeEventListener("offline", giveUp);
      if (signal) signal.removeEventListener("abort", abort);
    };
    xhr.open("PUT", `/api/jobs/${enc(jobId)}/files/${index}?offset=${offset}`);
    xhr.setRequestHeader("Accept", "application/json");
    xhr.setRequestHeader("Authorization", `Bearer ${token}`);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.responseType = "text";
    xhr.upload.onprogress = (e) => {
      clearTimeout(stall);
      stall = setTimeout(giveUp, STALL_MS);
      onSent(e.loaded);
    };
    xhr.onload = () => {
      done();
      let data = {};
      try {
        data = JSON.parse(xhr.responseText || "{}");
      } catch {
        data = {};
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(apiError(xhr.status, data));
    };
    xhr.onerror = xhr.ontimeout = () => {
      done();
      reject(apiError(0, { error: "network" }));
    };
    xhr.onabort = () => {
      done();
      reject(lost ? apiError(0, { error: "network" }) : new DOMException("Aborted", "AbortError"));
    };
    if (signal) signal.addEventListener("abort", abort, { once: true });
    window.addEventListener("offline", giveUp, { once: true });
    xhr.send(body);
  });
}

export function getOffset(jobId, token, index, signal) {
  return call("GET", `/api/jobs/${enc(jobId)}/files/${index}/offset`, { token, signal });
}

export function submitJob(jobId, token, sealedManifest, signal) {
  return call("POST", `/api/jobs/${enc(jobId)}/submit`, { token, body: sealedManifest, signal });
}

export function cancelJob(jobId, token) {
  return call("POST", `/api/jobs/${enc(jobId)}/cancel`, { token });
}

export function getJob(jobId, token, signal) {
  return call("GET", `/api/jobs/${enc(jobId)}`, { token, signal });
}

// Opens the job's server-sent-events stream; returns the fetch Response (body unread).
export async function openEvents(jobId, token, after, signal) {
  let response;
  try {
    response = await fetch(`/api/jobs/${enc(jobId)}/events?after=${after}`, {
      headers: { Accept: "text/event-stream", Authorization: `Bearer ${token}` }, signal, cache: "no-store",
    });
  } catch (e) {
    if (e && e.name === "AbortError") throw e;
    throw apiError(0, { error: "network" });
  }
  if (!response.ok) {
    let data = {};
    try {
      data = await response.json();
    } catch {
      data = {};
    }
    throw apiError(response.status, data);
  }
  return response;
}
