// thumbs.js — a thumbnail of a file's first page and its page count, on this device:
// PDFs with the vendored pdf.js (loaded only when a PDF is picked; its worker comes
// from this site, so the strict CSP holds), pictures with the browser's own decoder.
// Anything else (documents the shop converts) has no count: it is priced at the counter.

const PDFJS = "/static/vendor/pdfjs-5.7.284/";
const WIDTH = 112; // CSS pixels x2 for sharp thumbnails on phones
const MAX_PDF_BYTES = 200 * 1000 * 1000;

let pdfjs = null;
async function loadPdfjs() {
  if (!pdfjs) {
    pdfjs = import(`${PDFJS}pdf.min.mjs`).then((lib) => {
      lib.GlobalWorkerOptions.workerSrc = `${PDFJS}pdf.worker.min.mjs`;
      return lib;
    });
  }
  return pdfjs;
}

function canvasBlobUrl(canvas) {
  return new Promise((resolve) => {
    canvas.toBlob((blob) => resolve(blob ? URL.createObjectURL(blob) : null), "image/png");
  });
}

async function inspectPdf(file) {
  const head = new TextDecoder().decode(await file.slice(0, 1024).arrayBuffer());
  if (!head.includes("%PDF-")) throw new Error("not a PDF");
  const lib = await loadPdfjs();
  const data = new Uint8Array(await file.arrayBuffer());
  const task = lib.getDocument({ data, isEvalSupported: false, disableFontFace: false, useSystemFonts: true });
  const doc = await task.promise;
  try {
    const pages = doc.numPages;
    const page = await doc.getPage(1);
    const base = page.getViewport({ scale: 1 });
    const viewport = page.getViewport({ scale: WIDTH / base.width });
    const canvas = document.createElement("canvas");
    canvas.width = Math.ceil(viewport.width);
    canvas.height = Math.ceil(viewport.height);
    const canvasContext = canvas.getContext("2d");
    await page.render({ canvas, canvasContext, viewport }).promise;
    return { pages, thumb: await canvasBlobUrl(canvas) };
  } finally {
    doc.destroy();
  }
}

async function inspectImage(file) {
  const bitmap = await createImageBitmap(file);
  try {
    const scale = WIDTH / bitmap.width;
    const canvas = document.createElement("canvas");
    canvas.width = WIDTH;
    canvas.height = Math.max(1, Math.round(bitmap.height * scale));
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    return { pages: 1, thumb: await canvasBlobUrl(canvas) };
  } finally {
    bitmap.close();
  }
}

// Returns {pages: number|null, thumb: blob URL|null, unreadable: bool}.
export async function inspect(file, type) {
  try {
    if (type === "application/pdf") {
      if (file.size > MAX_PDF_BYTES) return { pages: null, thumb: null, unreadable: false };
      return { ...(await inspectPdf(file)), unreadable: false };
    }
    if (type === "image/tiff") {
      // A TIFF may hold many pages (each printed on its own): only the shop counts them.
      return { pages: null, thumb: null, unreadable: false };
    }
    if (type.startsWith("image/")) {
      try {
        return { ...(await inspectImage(file)), unreadable: false };
      } catch {
        // A format this browser cannot decode (HEIC on most phones): one page all the same.
        return { pages: 1, thumb: null, unreadable: false };
      }
    }
  } catch {
    return { pages: null, thumb: null, unreadable: true };
  }
  return { pages: null, thumb: null, unreadable: false };
}
