// events.js — live job status: server-sent events read with fetch() (so the token can
// go in the Authorization header, which EventSource cannot send), with a polling
// fallback when streaming does not work (some proxies buffer event streams).

import { ApiError, getJob, openEvents } from "./api.js";
import { sleep } from "./uploader.js";

export const TERMINAL = new Set(["completed", "rejected", "cancelled", "expired"]);

// Parses an SSE byte stream into {id, event, data} messages.
export async function* parseSse(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value.replaceAll("\r\n", "\n");
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const message = { id: null, event: "message", data: "" };
        const data = [];
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "id") message.id = value;
          else if (field === "event") message.event = value;
          else if (field === "data") data.push(value);
        }
        if (data.length) {
          message.data = data.join("\n");
          yield message;
        }
      }
    }
  } finally {
    reader.releaseLock();
  }
}

const FATAL = new Set([401, 403, 404, 410]);

// Calls onJob(job) for every state; resolves after a terminal state. onMode("live" |
// "polling") tells which channel works. onError(ApiError) for a job that is gone.
export async function watchJob(jobId, token, { onJob, onMode = () => {}, onError = () => {}, signal, pollMs = 3000 }) {
  let after = 0;
  let failures = 0;
  while (!signal.aborted) {
    if (failures < 3 || failures % 10 === 0) {
      try {
        const response = await openEvents(jobId, token, after, signal);
        onMode("live");
        let seen = 0;
        for await (const message of parseSse(response.body)) {
          if (message.event === "error") {
            const body = JSON.parse(message.data);
            throw new ApiError(503, body.error, body.message, body);
          }
          if (message.event !== "job") continue;
          seen += 1;
          const { job } = JSON.parse(message.data);
          if (message.id) after = Math.max(after, Number(message.id) || 0);
          failures = 0;
          onJob(job);
          if (TERMINAL.has(job.state)) return job;
        }
        // The response ended by itself (its time limit): reconnect at once. One that
        // ends without any event is a proxy in the way: count it as a failure.
        if (seen > 0) continue;
      } catch (e) {
        if (e && e.name === "AbortError") return null;
        if (e instanceof ApiError && FATAL.has(e.status)) {
          onError(e);
          return null;
        }
      }
    }
    failures += 1;
    onMode("polling");
    try {
      const { job } = await getJob(jobId, token, signal);
      onJob(job);
      if (TERMINAL.has(job.state)) return job;
    } catch (e) {
      if (e && e.name === "AbortError") return null;
      if (e instanceof ApiError && FATAL.has(e.status)) {
        onError(e);
        return null;
      }
    }
    try {
      await sleep(pollMs, signal);
    } catch {
      return null;
    }
  }
  return null;
}
