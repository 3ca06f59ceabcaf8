// uploader.js — encrypt one file record by record and upload it in chunks of whole
// records, retrying with exponential backoff and resuming from the relay's committed
// offset after a dropped connection (never starting over). While the browser is
// offline it waits for the network to come back instead of counting failures.

import { encryptFile, ciphertextSize, RECORD_SIZE, SEALED_RECORD_SIZE } from "./envelope.js";
import { ApiError, getOffset, putChunk } from "./api.js";

// The body of one request stays under 1,000,000 bytes, so that a proxy with the usual
// 1 MB body limit (nginx's default client_max_body_size) lets it through.
export const DEFAULT_CHUNK_LIMIT = 999_999;
// The default plaintext per request: 15 records, sealed 15 x 65,552 = 983,280 bytes
// (bench/envelope_bench.py reads this line).
export const SLICE_SIZE = 15 * 64 * 1024;

// Records per request: as many whole sealed records as fit in the smallest of the
// default and the limits the relay and the bridge advertise (0 or missing: no limit).
export function recordsPerChunk(...limits) {
  const fits = Math.min(DEFAULT_CHUNK_LIMIT, ...limits.filter((n) => Number.isSafeInteger(n) && n > 0));
  return Math.max(1, Math.floor(fits / SEALED_RECORD_SIZE));
}

export function backoffDelay(attempt, { base = 400, max = 10000 } = {}) {
  const ceiling = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("Aborted", "AbortError"));
      return;
    }
    const timer = setTimeout(resolve, ms);
    if (signal) {
      signal.addEventListener("abort", () => {
        clearTimeout(timer);
        reject(new DOMException("Aborted", "AbortError"));
      }, { once: true });
    }
  });
}

// Resolves when the browser says it is online (at once if it already is).
export function whenOnline(signal) {
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new DOMException("Aborted", "AbortError"));
      return;
    }
    if (navigator.onLine !== false) {
      resolve();
      return;
    }
    const onAbort = () => {
      window.removeEventListener("online", onOnline);
      reject(new DOMException("Aborted", "AbortError"));
    };
    const onOnline = () => {
      if (signal) signal.removeEventListener("abort", onAbort);
      resolve();
    };
    window.addEventListener("online", onOnline, { once: true });
    if (signal) signal.addEventListener("abort", onAbort, { once: true });
  });
}

function isAbort(e) {
  return e && e.name === "AbortError";
}

// Errors after which the same request may work: the network, the relay, or an offset
// that needs re-reading.
function worthRetrying(e) {
  if (!(e instanceof ApiError)) return e instanceof TypeError;
  return e.retryable || e.code === "offset_mismatch" || e.code === "body_incomplete" || e.code === "resync";
}

// Uploads `file` as file `index` of the job in chunks of `records` sealed records.
// onProgress(sentBytes, totalBytes, state) is called as bytes go out (state: "" while
// sending, "retrying" after a failure, "offline" while the browser is offline);
// sentBytes may include bytes of a chunk not yet committed. With `askFirst`, the
// relay's committed offset is read first (to continue an earlier attempt).
// Throws ApiError (not retryable, or retries exhausted while online) or AbortError.
export async function uploadFile({ jobId, token, index, file, fileKey, onProgress = () => {}, signal,
  maxAttempts = 8, records = recordsPerChunk(), askFirst = false }) {
  const total = ciphertextSize(file.size);
  const sliceSize = records * RECORD_SIZE;
  let committed = 0;
  if (askFirst) committed = (await getOffset(jobId, token, index, signal)).committed_offset;
  onProgress(committed, total, "");
  let attempt = 0;
  while (committed < total) {
    try {
      const startRecord = Math.floor(committed / SEALED_RECORD_SIZE);
      let skip = committed - startRecord * SEALED_RECORD_SIZE;
      const chunks = encryptFile(file, fileKey, { startRecord, sliceSize });
      // Encrypt the next chunk while this one uploads (one chunk ahead, bounded memory).
      let ahead = chunks.next();
      for (;;) {
        const step = await ahead;
        if (step.done) break;
        ahead = chunks.next();
        ahead.catch(() => {}); // surfaced by the await above if it is still wanted
        const chunk = step.value;
        let bytes = chunk.bytes;
        let offset = chunk.offset;
        if (skip > 0) {
          bytes = bytes.subarray(skip);
          offset += skip;
          skip = 0;
        }
        if (bytes.length === 0) continue;
        const result = await putChunk(jobId, token, index, offset, bytes, signal,
          (sent) => onProgress(offset + Math.min(sent, bytes.length), total, ""));
        committed = result.committed_offset;
        attempt = 0;
        onProgress(committed, total, "");
        if (committed !== offset + bytes.length) {
          throw new ApiError(409, "resync", "The upload continues from where it stopped.");
        }
      }
      if (committed < total) throw new ApiError(409, "resync", "The upload continues from where it stopped.");
    } catch (e) {
      if (isAbort(e) || !worthRetrying(e)) throw e;
      if (e instanceof ApiError && Number.isSafeInteger(e.body.committed_offset)) {
        committed = e.body.committed_offset;
      }
      if (navigator.onLine === false) {
        // Offline: no point counting attempts. Carry on by itself when the network is back.
        onProgress(committed, total, "offline");
        await whenOnline(signal);
        attempt = 0;
      } else {
        attempt += 1;
        if (attempt > maxAttempts) throw e;
        onProgress(committed, total, "retrying");
        await Promise.race([sleep(backoffDelay(attempt), signal), whenOnlineAgain(signal)]);
      }
      try {
        committed = (await getOffset(jobId, token, index, signal)).committed_offset;
        onProgress(committed, total, "");
      } catch (e2) {
        if (isAbort(e2) || !worthRetrying(e2)) throw e2;
        // The next round's PUT will fail and back off again if the network is still down.
      }
    }
  }
  return committed;
}

// Resolves on the next "online" event (never rejects; ends with the signal).
function whenOnlineAgain(signal) {
  return new Promise((resolve) => {
    const onOnline = () => resolve();
    window.addEventListener("online", onOnline, { once: true });
    if (signal) signal.addEventListener("abort", () => window.removeEventListener("online", onOnline), { once: true });
  });
}
