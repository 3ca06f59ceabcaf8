// store.js — what the tab remembers about its jobs, in sessionStorage only (gone when
// the tab closes; never sent anywhere), and the job's status link, which carries the
// token in the URL fragment (#t=…): browsers never send a fragment to a server, so it
// reaches no log, yet the link opens the job in another tab or after the tab is gone.

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
  try {
    for (let i = 0; i < sessionStorage.length; i++) {
      const key = sessionStorage.key(i);
      if (key && key.startsWith(PREFIX)) {
        const record = loadJob(key.slice(PREFIX.length));
        if (record) out.push(record);
      }
    }
  } catch {
    // no storage: nothing remembered
  }
  return out;
}

// The fragment of a status link: t = token, s = shop slug, k = the shop key of an old QR,
// f = the shop's key set fingerprint the job was sent under, m = SHA-256 of the sealed
// manifest (both let another tab check the kiosk's receipts: receipt.js).
export function statusFragment(record) {
  const params = new URLSearchParams();
  params.set("t", record.token);
  if (record.slug) params.set("s", record.slug);
  if (record.keyParam) params.set("k", record.keyParam);
  if (record.setParam) params.set("f", record.setParam);
  if (record.manifestHash) params.set("m", record.manifestHash);
  return `#${params}`;
}

export function statusLink(record) {
  return `${location.origin}/j/${encodeURIComponent(record.jobId)}${statusFragment(record)}`;
}

// Reads {token, slug, keyParam, setParam, manifestHash} from this page's fragment
// (values null when absent).
export function readFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  return {
    token: params.get("t"), slug: params.get("s"), keyParam: params.get("k"),
    setParam: params.get("f"), manifestHash: params.get("m"),
  };
}
