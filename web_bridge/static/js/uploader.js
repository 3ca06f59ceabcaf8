// uploader.js — encrypt one file record by record and upload it in chunks of whole
// records, retrying with exponential backoff and resuming from the relay's committed
// offset after a dropped connection (never starting over).

import { encryptFile, ciphertextSize, SEALED_RECORD_SIZE } from "./envelope.js";
import { ApiError, getOffset, putChunk } from "./api.js";

// 15 records of plaintext per request: the sealed chunk (15 x 65,552 = 983,280 bytes)
// stays under 1,000,000 bytes, below a reverse proxy's usual default body limit (nginx:
// 1 MiB); small enough to lose little on a flaky phone network.
export const SLICE_SIZE = 15 * 64 * 1024;

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

function isAbort(e) {
  return e && e.name === "AbortError";
}

// Errors after which the same request may work: the network, the relay, or an offset
// that needs re-reading.
function worthRetrying(e) {
  if (!(e instanceof ApiError)) return e instanceof TypeError;
  return e.retryable || e.code === "offset_mismatch" || e.code === "body_incomplete" || e.code === "resync";
}

// Uploads `file` as file `index` of the job. onProgress(committedBytes, totalBytes,
// attempt) is called after every chunk and every resync. With `askFirst`, the relay's
// committed offset is read first (to continue an earlier attempt).
// Throws ApiError (not retryable, or retries exhausted) or AbortError.
export async function uploadFile({ jobId, token, index, file, fileKey, onProgress = () => {}, signal,
  maxAttempts = 8, sliceSize = SLICE_SIZE, askFirst = false }) {
  const total = ciphertextSize(file.size);
  let committed = 0;
  if (askFirst) committed = (await getOffset(jobId, token, index, signal)).committed_offset;
  onProgress(committed, total, 0);
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
        const result = await putChunk(jobId, token, index, offset, bytes, signal);
        committed = result.committed_offset;
        attempt = 0;
        onProgress(committed, total, attempt);
        if (committed !== offset + bytes.length) {
          throw new ApiError(409, "resync", "The upload continues from where it stopped.");
        }
      }
      if (committed < total) throw new ApiError(409, "resync", "The upload continues from where it stopped.");
    } catch (e) {
      if (isAbort(e) || !worthRetrying(e)) throw e;
      attempt += 1;
      if (attempt > maxAttempts) throw e;
      if (e instanceof ApiError && Number.isSafeInteger(e.body.committed_offset)) {
        committed = e.body.committed_offset;
      }
      onProgress(committed, total, attempt);
      await sleep(backoffDelay(attempt), signal);
      try {
        committed = (await getOffset(jobId, token, index, signal)).committed_offset;
        onProgress(committed, total, attempt);
      } catch (e2) {
        if (isAbort(e2) || !worthRetrying(e2)) throw e2;
        // The next round's PUT will fail and back off again if the network is still down.
      }
    }
  }
  return committed;
}
