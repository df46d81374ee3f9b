// The clipboard and file downloads, the two ways the console hands text to the desktop.

/** Copies text to the clipboard (falls back to a hidden textarea where the API is missing). */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      /* fall through to the old way */
    }
  }
  const ta = document.createElement('textarea');
  Object.assign(ta.style, { position: 'fixed', left: '-9999px', top: '0' });
  ta.setAttribute('aria-hidden', 'true');
  ta.value = text;
  document.body.appendChild(ta);
  ta.select();
  try {
    document.execCommand('copy');
  } finally {
    ta.remove();
  }
}

/** Offers `body` (text, or bytes) as a file download of MIME type `type`. */
export function download(filename: string, body: string | Uint8Array<ArrayBuffer>, type = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([body], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.style.display = 'none';
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
