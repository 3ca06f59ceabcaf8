// awake.js — keeps the phone's screen on during an upload where the Wake Lock API
// exists (a screen that turns off can stop the page). Best effort: no lock, no harm.

export class ScreenAwake {
  constructor() {
    this.lock = null;
    this.wanted = false;
    this.onVisible = () => {
      if (this.wanted && document.visibilityState === "visible") this.request();
    };
  }

  async request() {
    if (!("wakeLock" in navigator)) {
      document.body.dataset.awake = "unsupported";
      return;
    }
    if (this.lock) return;
    try {
      this.lock = await navigator.wakeLock.request("screen");
      this.lock.addEventListener("release", () => {
        this.lock = null;
        document.body.dataset.awake = "released";
      });
      if (!this.wanted) this.release();
    } catch {
      this.lock = null; // low battery, permissions policy, or not visible
    }
    if (this.lock || this.wanted) document.body.dataset.awake = this.lock ? "held" : "unavailable";
  }

  hold() {
    this.wanted = true;
    document.addEventListener("visibilitychange", this.onVisible);
    this.request();
  }

  release() {
    this.wanted = false;
    document.removeEventListener("visibilitychange", this.onVisible);
    if (this.lock) this.lock.release().catch(() => {});
    this.lock = null;
  }

  get held() {
    return Boolean(this.lock);
  }
}
