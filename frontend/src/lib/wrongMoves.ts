/**
 * Catching an analyst's wrong moves before they cost anything: an over-long case title, the same file twice,
 * an error message that names the stored file instead of the uploaded one.
 */
import type { Job } from "../api/types";

/** Case.title's max_length (platform/cases/models.py): the API answers 400 past it. */
export const CASE_TITLE_MAX_CHARS = 200;

export interface TitleCount {
  text: string;
  over: boolean;
}

/** "12 / 200", and whether the title is too long: shown as it is typed, never cut silently. */
export function titleCount(title: string): TitleCount {
  const length = title.trim().length;
  const over = length > CASE_TITLE_MAX_CHARS;
  return {
    text: over
      ? `${length} / ${CASE_TITLE_MAX_CHARS}: ${length - CASE_TITLE_MAX_CHARS} characters too long`
      : `${length} / ${CASE_TITLE_MAX_CHARS}`,
    over,
  };
}

/** A job's error as the analyst knows the file: by its uploaded name, not by its stored (sha256) name. */
export function jobErrorText(job: Pick<Job, "error_message" | "media">): string {
  const message = job.error_message || "no reason given.";
  const { sha256, original_name: name } = job.media ?? {};
  return sha256 && name ? message.split(sha256).join(name) : message;
}

/** Files larger than this are not hashed in the browser to look for an earlier analysis (memory). */
export const MAX_HASHED_BYTES = 256 * 1024 * 1024;

/** The file's sha256 in hex (what the server names it by), or null when the browser cannot hash it here. */
export async function fileSha256(file: Blob): Promise<string | null> {
  if (file.size > MAX_HASHED_BYTES || typeof crypto === "undefined" || !crypto.subtle) return null;
  const digest = await crypto.subtle.digest("SHA-256", await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}
