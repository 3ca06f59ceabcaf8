// form.js — the job form: picked files (picker and drag-and-drop) with a progress bar
// each, the shop's limits checked before anything is sent, and the print options.

import { ciphertextSize } from "./envelope.js";
import { formatBytes, mediaType, percent } from "./format.js";

const $ = (id) => document.getElementById(id);
const PAGES = /^[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?(,[1-9][0-9]{0,4}(-[1-9][0-9]{0,4})?)*$/;

export class JobForm {
  constructor(shop, onChange) {
    this.shop = shop;
    this.onChange = onChange;
    this.entries = []; // {file, row, bar, text}
    this.locked = false;
    this.input = $("file-input");
    this.list = $("file-list");
    this.input.addEventListener("change", () => {
      this.add(Array.from(this.input.files));
      this.input.value = "";
    });
    const zone = $("drop-zone");
    for (const name of ["dragenter", "dragover"]) {
      zone.addEventListener(name, (e) => {
        e.preventDefault();
        if (!this.locked) zone.classList.add("over");
      });
    }
    for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => {
      e.preventDefault();
      if (!this.locked && e.dataTransfer) this.add(Array.from(e.dataTransfer.files));
    });
    const l = shop.limits;
    const parts = [];
    if (l.max_files_per_job) parts.push(`up to ${l.max_files_per_job} files`);
    if (l.max_file_bytes) parts.push(`${formatBytes(l.max_file_bytes)} per file`);
    if (l.max_job_bytes) parts.push(`${formatBytes(l.max_job_bytes)} in all`);
    $("limits-line").textContent = parts.length ? `This shop accepts ${parts.join(", ")}.` : "";
  }

  add(files) {
    if (this.locked) return;
    for (const file of files) {
      const row = document.createElement("li");
      row.className = "file";
      const name = document.createElement("span");
      name.className = "file-name";
      name.textContent = file.name;
      const size = document.createElement("span");
      size.className = "file-size";
      size.textContent = formatBytes(file.size);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "remove";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", `Remove ${file.name}`);
      const bar = document.createElement("progress");
      bar.max = 100;
      bar.value = 0;
      const text = document.createElement("span");
      text.className = "progress-text";
      const problem = document.createElement("span");
      problem.className = "file-problem";
      row.append(name, size, remove, bar, text, problem);
      const entry = { file, row, bar, text, problem, remove };
      remove.addEventListener("click", () => {
        if (this.locked) return;
        this.entries = this.entries.filter((e) => e !== entry);
        row.remove();
        this.onChange();
      });
      this.entries.push(entry);
      this.list.append(row);
    }
    this.onChange();
  }

  files() {
    return this.entries.map((e) => e.file);
  }

  // Returns a sentence saying why these files cannot be sent, or "" if they can.
  problems() {
    const { limits, accepted_media_types: accepted } = this.shop;
    for (const e of this.entries) {
      e.row.classList.remove("bad");
      e.problem.textContent = "";
    }
    if (this.entries.length === 0) return "Choose at least one file.";
    if (limits.max_files_per_job && this.entries.length > limits.max_files_per_job) {
      return `Too many files: this shop accepts at most ${limits.max_files_per_job} per job.`;
    }
    let total = 0;
    for (const e of this.entries) {
      const type = mediaType(e.file);
      if (accepted.length && !accepted.includes(type)) {
        e.row.classList.add("bad");
        e.problem.textContent = "This kind of file is not accepted.";
        return `“${e.file.name}” cannot be printed here: this shop accepts ${accepted.join(", ")}.`;
      }
      const sealed = ciphertextSize(e.file.size);
      total += sealed;
      if (limits.max_file_bytes && sealed > limits.max_file_bytes) {
        e.row.classList.add("bad");
        e.problem.textContent = "Too large.";
        return `“${e.file.name}” is too large (${formatBytes(e.file.size)}). This shop accepts files up to ${formatBytes(limits.max_file_bytes)}.`;
      }
    }
    if (limits.max_job_bytes && total > limits.max_job_bytes) {
      return `These files are too large together (${formatBytes(total)}). This shop accepts up to ${formatBytes(limits.max_job_bytes)} per job.`;
    }
    const pages = $("opt-pages").value.replace(/\s+/g, "");
    if (pages && !PAGES.test(pages)) return "Pages: write page numbers like 1-3,5 (or leave empty for all pages).";
    const copies = Number($("opt-copies").value);
    if (!Number.isInteger(copies) || copies < 1 || copies > 999) return "Copies: a number from 1 to 999.";
    return "";
  }

  options() {
    return {
      copies: Number($("opt-copies").value),
      color: $("opt-color").value,
      duplex: $("opt-duplex").value,
      pages: $("opt-pages").value.replace(/\s+/g, ""),
      paper: $("opt-paper").value,
    };
  }

  customer() {
    return { name: $("customer-name").value.trim(), note: $("customer-note").value.trim() };
  }

  lock(locked) {
    this.locked = locked;
    for (const el of $("job-form").querySelectorAll("input, select, textarea")) el.disabled = locked;
    for (const e of this.entries) e.remove.hidden = locked;
    $("drop-zone").classList.toggle("locked", locked);
  }

  progress(index, done, total, note = "") {
    const e = this.entries[index];
    const p = percent(done, total);
    e.bar.value = p;
    e.text.textContent = `${formatBytes(done)} of ${formatBytes(total)} · ${p}%${note ? " · " + note : ""}`;
    e.row.dataset.percent = String(p);
  }
}
