// form.js — the job form: picked files (picker and drag-and-drop) each with a thumbnail,
// its page count, its own pages and copies, and a progress bar; duplicates and files the
// shop cannot take flagged on their own row; the shop's limits checked before anything
// is sent; and the job's options, offering only what the shop's printer can do.

import { ciphertextSize, sha256Hex } from "./envelope.js";
import {
  acceptAttribute, conversionNote, formatBytes, formatLimit, formatNumber, isConverted, kindList, kindName, percent,
  shopType,
} from "./format.js";
import { _ } from "./i18n.js";
import { isPhoto, MAX_COPIES, parseRanges, photoLayoutFits, shopOffer } from "./order.js";
import { inspect } from "./thumbs.js";

const $ = (id) => document.getElementById(id);

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

let nextId = 0;

export class JobForm {
  constructor(shop, onChange) {
    this.shop = shop;
    this.onChange = onChange;
    this.entries = [];
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
    const accepted = shop.accepted_media_types || [];
    this.accepted = accepted;
    $("accepted-kinds").textContent = accepted.length ? kindList(accepted) : "";
    if (accepted.length) this.input.accept = acceptAttribute(accepted);
    const explain = [];
    if (accepted.some(isConverted)) {
      explain.push(_("Word, Excel and PowerPoint files are turned into PDF at the shop; the shop checks the pages before printing, and their price is set at the counter."));
    }
    if (accepted.some(isPhoto)) {
      explain.push(_("Photos are printed upright, as your phone shows them; choose their size under Photos."));
    }
    $("kinds-explain").textContent = explain.join(" ");
    const l = shop.limits;
    const parts = [];
    if (l.max_files_per_job) parts.push(_("up to %(n)s files", { n: formatNumber(l.max_files_per_job) }));
    if (l.max_file_bytes) parts.push(_("%(size)s per file", { size: formatLimit(l.max_file_bytes) }));
    if (l.max_job_bytes) parts.push(_("%(size)s in all", { size: formatLimit(l.max_job_bytes) }));
    $("limits-line").textContent = parts.length ? _("This shop accepts %(limits)s.", { limits: parts.join(", ") }) : "";
    this.offerOptions(shopOffer(shop));
    for (const id of ["opt-color", "opt-sides", "opt-media", "opt-nup", "opt-orientation", "opt-photo-size",
      "opt-photo-per-sheet", "opt-photo-fit", "customer-name", "customer-note"]) {
      $(id).addEventListener("change", () => this.onChange());
    }
  }

  // Keeps only the choices the shop's printer can make.
  offerOptions(offer) {
    const keep = (id, values) => {
      const select = $(id);
      for (const option of Array.from(select.options)) {
        if (!values.map(String).includes(option.value)) option.remove();
      }
      select.disabled = select.options.length < 2;
      select.closest("label").classList.toggle("fixed", select.options.length < 2);
    };
    keep("opt-color", offer.color);
    keep("opt-sides", offer.sides);
    keep("opt-media", offer.media);
    keep("opt-nup", offer.pagesPerSheet);
    keep("opt-orientation", offer.orientation);
  }

  add(files) {
    if (this.locked) return;
    for (const file of files) this.entries.push(this.row(file));
    this.onChange();
  }

  row(file) {
    const id = `f${nextId++}`;
    const type = shopType(this.accepted, file);
    const row = el("li", "file");
    row.dataset.kind = isConverted(type) ? "converted" : isPhoto(type) ? "photo" : "document";
    const thumb = el("div", "thumb");
    thumb.setAttribute("aria-hidden", "true");
    thumb.textContent = type === "application/pdf" ? "PDF" : type.startsWith("image/") ? "IMG" : "DOC";
    const main = el("div", "file-main");
    const name = el("span", "file-name", file.name);
    name.id = `${id}-name`;
    name.dir = "auto";
    const meta = el("span", "file-meta", `${kindName(type)} · ${formatBytes(file.size)}`);
    const flag = el("span", "file-flag");
    const note = el("span", "file-note", conversionNote(type));
    main.append(name, meta, flag, note);
    const remove = el("button", "remove", _("Remove"));
    remove.type = "button";
    remove.setAttribute("aria-label", _("Remove %(name)s", { name: file.name }));
    const opts = el("div", "file-opts");
    const pagesLabel = el("label", "", _("Pages"));
    const pages = el("input");
    pages.type = "text";
    pages.autocomplete = "off";
    pages.placeholder = _("All");
    pages.inputMode = "numeric";
    pages.setAttribute("aria-describedby", name.id);
    pagesLabel.append(pages);
    const copiesLabel = el("label", "", _("Copies"));
    const copies = el("input");
    copies.type = "number";
    copies.min = "1";
    copies.max = String(MAX_COPIES);
    copies.value = "1";
    copies.inputMode = "numeric";
    copies.setAttribute("aria-describedby", name.id);
    copiesLabel.append(copies);
    opts.append(pagesLabel, copiesLabel);
    const problem = el("span", "file-problem");
    problem.setAttribute("role", "alert");
    const bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-labelledby", name.id);
    const text = el("span", "progress-text");
    row.append(thumb, main, remove, opts, problem, bar, text);
    const entry = {
      file, type, row, thumb, meta, flag, pages, copies, problem, remove, bar, text,
      info: null, sha256: null,
    };
    entry.digest = sha256Hex(file).then((digest) => {
      entry.sha256 = digest;
      this.onChange();
      return digest;
    });
    entry.digest.catch(() => {});
    inspect(file, type).then((info) => {
      entry.info = info;
      if (info.thumb) {
        const img = el("img");
        img.src = info.thumb;
        img.alt = "";
        thumb.textContent = "";
        thumb.append(img);
        thumb.classList.add("has-image");
      }
      const bits = [kindName(type)];
      if (info.pages !== null) bits.push(info.pages === 1 ? _("1 page") : _("%(n)s pages", { n: formatNumber(info.pages) }));
      else if (!info.unreadable) bits.push(_("priced at the counter"));
      bits.push(formatBytes(file.size));
      meta.textContent = bits.join(" · ");
      row.dataset.pages = info.pages === null ? "" : String(info.pages);
      this.onChange();
    });
    remove.addEventListener("click", () => {
      if (this.locked) return;
      this.entries = this.entries.filter((e) => e !== entry);
      row.remove();
      if (entry.info && entry.info.thumb) URL.revokeObjectURL(entry.info.thumb);
      this.onChange();
    });
    for (const input of [pages, copies]) input.addEventListener("input", () => this.onChange());
    this.list.append(row);
    return entry;
  }

  files() {
    return this.entries.map((e) => e.file);
  }

  // Waits for every file's SHA-256 (computed as soon as it was picked).
  digests() {
    return Promise.all(this.entries.map((e) => e.digest));
  }

  // The order's files: {file, type, sha256, pages (count to print per copy, or null),
  // total (the document's page count, or null), copies, pageRanges}.
  orderFiles() {
    return this.entries.map((e) => {
      const total = e.info ? e.info.pages : null;
      const ranges = e.pages.value.replace(/\s+/g, "");
      const parsed = parseRanges(ranges, total);
      return {
        file: e.file, type: e.type, sha256: e.sha256, total, pages: parsed.ok ? parsed.pages : null,
        copies: Number(e.copies.value), pageRanges: ranges,
      };
    });
  }

  // Flags every file with a problem on its own row, and returns one sentence for the
  // whole form ("" when the job can be sent).
  problems() {
    const { limits, accepted_media_types: accepted = [] } = this.shop;
    const sentences = [];
    const seen = new Map();
    let total = 0;
    let bad = 0;
    for (const e of this.entries) {
      const issues = [];
      let duplicateOf = null;
      if (e.sha256) {
        if (seen.has(e.sha256)) duplicateOf = seen.get(e.sha256);
        else seen.set(e.sha256, e.file.name);
      }
      if (accepted.length && !accepted.includes(e.type)) {
        issues.push(_("This shop cannot print a %(kind)s. It prints: %(kinds)s. Save it in one of those forms (most apps can share or export as PDF) and choose it again.",
          { kind: kindName(e.type), kinds: kindList(accepted) }));
      }
      const sealed = ciphertextSize(e.file.size);
      total += sealed;
      if (limits.max_file_bytes && sealed > limits.max_file_bytes) {
        issues.push(_("Too large: this shop takes files up to %(size)s.", { size: formatLimit(limits.max_file_bytes) }));
      }
      const pagesCount = e.info ? e.info.pages : null;
      const parsed = parseRanges(e.pages.value, pagesCount);
      if (!parsed.ok && parsed.reason === "syntax") issues.push(_("Pages: write page numbers like 1-3,5, or leave empty for all pages."));
      if (!parsed.ok && parsed.reason === "range") issues.push(_("Pages: this file has only %(n)s pages.", { n: formatNumber(pagesCount) }));
      const copies = Number(e.copies.value);
      if (!Number.isInteger(copies) || copies < 1 || copies > MAX_COPIES) issues.push(_("Copies: a number from 1 to 999."));
      if (e.info && e.info.unreadable) issues.push(_("This file could not be opened on this phone. It may be damaged; the shop may not be able to print it."));
      e.flag.textContent = duplicateOf ? _("Same file as “%(name)s” above.", { name: duplicateOf }) : "";
      e.row.classList.toggle("duplicate", Boolean(duplicateOf));
      const blocking = issues.length && !(issues.length === 1 && e.info && e.info.unreadable);
      e.row.classList.toggle("bad", Boolean(blocking));
      e.problem.textContent = issues.join(" ");
      if (blocking) bad += 1;
    }
    this.explainPhotos();
    if (this.entries.length === 0) return _("Choose at least one file.");
    if (bad === 1) sentences.push(_("One file needs your attention (marked in red)."));
    if (bad > 1) sentences.push(_("%(n)s files need your attention (marked in red).", { n: formatNumber(bad) }));
    if (limits.max_files_per_job && this.entries.length > limits.max_files_per_job) {
      sentences.push(_("Too many files: this shop accepts at most %(n)s per job.", { n: formatNumber(limits.max_files_per_job) }));
    }
    const job = this.jobOptions();
    if (job.photoSize && !photoLayoutFits(job.photoSize, job.photosPerSheet, job.media)) {
      sentences.push(_("%(n)s photos of %(size)s do not fit on one %(paper)s sheet: choose fewer per sheet or larger paper.",
        { n: formatNumber(job.photosPerSheet), size: this.photoSizeName(job.photoSize), paper: job.media }));
    }
    if (limits.max_job_bytes && total > limits.max_job_bytes) {
      sentences.push(_("These files are too large together (%(size)s). This shop accepts up to %(limit)s per job.",
        { size: formatBytes(total), limit: formatLimit(limits.max_job_bytes) }));
    }
    return sentences.join(" ");
  }

  // The job's options; the photo options only when the job has a photo (they apply to nothing else).
  jobOptions() {
    const job = {
      color: $("opt-color").value,
      sides: $("opt-sides").value,
      media: $("opt-media").value,
      pagesPerSheet: Number($("opt-nup").value),
      orientation: $("opt-orientation").value,
    };
    if (this.hasPhotos()) {
      job.photoSize = $("opt-photo-size").value;
      job.photosPerSheet = Number($("opt-photo-per-sheet").value);
      job.photoFit = $("opt-photo-fit").value;
    }
    return job;
  }

  hasPhotos() {
    return this.entries.some((e) => isPhoto(e.type));
  }

  photoSizeName(size) {
    return { "10x15": _("10 x 15 cm"), "4x6": _("4 x 6 in") }[size] || _("page size");
  }

  // Shows the photo options only for a job with photos, says in words what they do, and says
  // that they leave the job's other files (PDFs, documents) as they are.
  explainPhotos() {
    const photos = this.entries.filter((e) => isPhoto(e.type)).length;
    const others = this.entries.length - photos;
    $("photo-options").hidden = photos === 0;
    if (!photos) return;
    const size = $("opt-photo-size").value;
    const perSheet = Number($("opt-photo-per-sheet").value);
    const fit = $("opt-photo-fit").value;
    const count = perSheet === 1 ? _("one on a sheet")
      : perSheet === 2 ? _("the same photo twice on a sheet") : _("the same photo four times on a sheet");
    const how = fit === "fill" ? _("filling its space (the edges are cropped)") : _("whole, inside the margins");
    const sentences = [_("Each photo is printed upright at %(size)s, %(count)s, %(how)s.",
      { size: this.photoSizeName(size), count, how })];
    if (others) {
      sentences.push(others === 1
        ? _("These photo options apply to the photos only; the other file prints as it is.")
        : _("These photo options apply to the photos only; the %(n)s other files print as they are.", { n: formatNumber(others) }));
    }
    $("photo-explain").textContent = sentences.join(" ");
  }

  customer() {
    return { name: $("customer-name").value.trim(), note: $("customer-note").value.trim() };
  }

  lock(locked) {
    this.locked = locked;
    for (const node of $("job-form").querySelectorAll("input, select, textarea")) {
      node.disabled = locked || (node.tagName === "SELECT" && node.options.length < 2);
    }
    for (const e of this.entries) e.remove.hidden = locked;
    $("drop-zone").classList.toggle("locked", locked);
  }

  progress(index, done, total, note = "") {
    const e = this.entries[index];
    const p = percent(done, total);
    e.bar.value = p;
    e.text.textContent = `${formatBytes(done)} / ${formatBytes(total)} · ${formatNumber(p / 100, { style: "percent" })}${note ? " · " + note : ""}`;
    e.row.dataset.percent = String(p);
  }
}
