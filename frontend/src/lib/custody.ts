/** The custody log as the case and job pages show it: filtering and wording, kept out of the component. */
import type { AuditEvent } from "../api/types";

/** The filter's default: uploads, submissions, reviews, downloads, deletions... without the reads of evidence. */
export const SUBSTANTIVE = "substantive";
/** Only the reads of evidence (the original played, crops shown, the report opened: AuditEvent.is_read). */
export const READS = "reads";

export interface CustodyFilter {
  /** Matches who, what, the object, the address or a hash (case-insensitive). */
  text: string;
  /** SUBSTANTIVE, READS, one action (e.g. "media.downloaded"), or "" for all. */
  action: string;
}

export function filterCustody(events: AuditEvent[], filter: CustodyFilter): AuditEvent[] {
  const needle = filter.text.trim().toLowerCase();
  return events.filter((event) => {
    if (filter.action === SUBSTANTIVE) {
      if (event.is_read) return false;
    } else if (filter.action === READS) {
      if (!event.is_read) return false;
    } else if (filter.action && event.action !== filter.action) return false;
    if (!needle) return true;
    const haystack = [
      event.actor_name || "system",
      event.action,
      `${event.object_type} ${event.object_id}`,
      event.ip ?? "",
      event.entry_hash,
      event.sha256,
    ];
    return haystack.some((value) => value.toLowerCase().includes(needle));
  });
}

/** The actions present, in the order they first appear, for the filter's choices. */
export function custodyActions(events: AuditEvent[]): string[] {
  return [...new Set(events.map((event) => event.action))];
}

/** "media.downloaded" → "Media downloaded". */
export function actionLabel(action: string): string {
  const words = action.replace(/[._]/g, " ");
  return words.charAt(0).toUpperCase() + words.slice(1);
}
