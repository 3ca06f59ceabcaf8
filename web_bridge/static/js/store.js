// store.js — what the tab remembers about its jobs, in sessionStorage only (gone when
// the tab closes; never sent anywhere; the token is never put in a URL).

const PREFIX = "cloudtab.job.";

export function saveJob(record) {
  try {
    sessionStorage.setItem(PREFIX + record.jobId, JSON.stringify(record));
  } catch {
    // Private mode or full storage: the status then only lasts until reload.
  }
}

export function loadJob(jobId) {
  try {
    const text = sessionStorage.getItem(PREFIX + jobId);
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

export function updateJob(jobId, changes) {
  const record = loadJob(jobId);
  if (record) saveJob({ ...record, ...changes });
}

export function allJobs() {
  const out = [];
  for (let i = 0; i < sessionStorage.length; i++) {
    const key = sessionStorage.key(i);
    if (key && key.startsWith(PREFIX)) {
      const record = loadJob(key.slice(PREFIX.length));
      if (record) out.push(record);
    }
  }
  return out;
}

export function forgetJob(jobId) {
  try {
    sessionStorage.removeItem(PREFIX + jobId);
  } catch {
    // nothing to forget
  }
}
