/** Multipart upload of one file as a new analysis job, with progress (fetch has no upload progress). */
import { API_ROOT, ensureCsrfToken, errorMessage } from "./client";
import type { Job } from "./types";

export interface UploadOptions {
  caseId: number;
  file: File;
  frames?: number;
  detectors?: string[];
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

export class UploadRejected extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "UploadRejected";
  }
}

export async function uploadMedia({ caseId, file, frames, detectors, onProgress, signal }: UploadOptions): Promise<Job> {
  const token = await ensureCsrfToken();
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("case", String(caseId));
  if (frames !== undefined) form.append("frames", String(frames));
  if (detectors && detectors.length) form.append("detectors", detectors.join(","));

  return new Promise<Job>((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", `${API_ROOT}/jobs/`);
    xhr.setRequestHeader("Accept", "application/json");
    if (token) xhr.setRequestHeader("X-CSRFToken", token);
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable && onProgress) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let body: unknown = xhr.responseText;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        // Proxies answer 413 with HTML; errorMessage() then falls back to a sentence of its own.
      }
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress?.(1);
        resolve(body as Job);
      } else {
        reject(new UploadRejected(xhr.status, errorMessage(body, xhr.status)));
      }
    };
    xhr.onerror = () => reject(new UploadRejected(0, errorMessage(null, 0)));
    xhr.onabort = () => reject(new UploadRejected(0, "Upload cancelled."));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.send(form);
  });
}
