// Files chosen in the UI (documents, FHIR Bundles) and copies saved through
// the save dialog. Pure helpers apart from readBase64 (FileReader).

/** The largest document the backend accepts (ehr.MaxDocument). */
export const MAX_DOCUMENT_BYTES = 20 * 1024 * 1024;

/** The largest FHIR Bundle the backend accepts (fhir.MaxImportBytes). */
export const MAX_IMPORT_BYTES = 200 * 1024 * 1024;

/** The document types Outpost keeps; the backend recognises them by content. */
export const DOCUMENT_ACCEPT = 'application/pdf,image/png,image/jpeg';

const TYPE_LABELS: Record<string, string> = {
  'application/pdf': 'PDF',
  'image/png': 'PNG image',
  'image/jpeg': 'JPEG image',
};

export function documentTypeLabel(contentType: string): string {
  return TYPE_LABELS[contentType] ?? contentType;
}

/** Only PNG and JPEG are shown inline; anything else (PDF) never is. */
export function isInlineImage(contentType: string): boolean {
  return contentType === 'image/png' || contentType === 'image/jpeg';
}

/** A data: URL for an inline image, or '' for anything that is not PNG or JPEG or not base64. */
export function imageDataUrl(contentType: string, base64: string): string {
  if (!isInlineImage(contentType) || !/^[A-Za-z0-9+/]*={0,2}$/.test(base64) || base64 === '') return '';
  return `data:${contentType};base64,${base64}`;
}

/** "812 bytes", "14.2 KB", "3.5 MB" (1 KB = 1024 bytes). */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '';
  if (bytes < 1024) return `${bytes} ${bytes === 1 ? 'byte' : 'bytes'}`;
  const units = ['KB', 'MB', 'GB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : Math.round(v * 10) / 10} ${units[i]}`;
}

/** A message when the file is larger than limit bytes, else ''. */
export function tooLarge(size: number, limit: number): string {
  return size > limit ? `The file is larger than ${Math.round(limit / (1024 * 1024))} MB.` : '';
}

/** The file's bytes as base64 (without the data: URL prefix). */
export function readBase64(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onerror = () => reject(reader.error ?? new Error('read failed'));
    reader.onabort = () => reject(new Error('read aborted'));
    reader.onload = () => {
      const url = typeof reader.result === 'string' ? reader.result : '';
      const comma = url.indexOf(',');
      if (!url.startsWith('data:') || comma < 0) reject(new Error('unexpected result'));
      else resolve(url.slice(comma + 1));
    };
    reader.readAsDataURL(file);
  });
}

/** "Saved as NAME." for a copy written through the save dialog; '' when the user cancelled. */
export function savedMessage(name: string): string {
  return name ? `Saved as ${name}.` : '';
}
