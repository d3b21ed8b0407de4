/** An original deleted under its team's retention: the sentence the dashboard shows where the original was. */
export interface RetainedMedia {
  original_deleted_at?: string | null;
  original_deleted_reason?: string;
}

export function originalGone(media: RetainedMedia): string | null {
  if (!media.original_deleted_at) return null;
  const date = new Date(media.original_deleted_at);
  const day = Number.isNaN(date.getTime()) ? media.original_deleted_at : date.toISOString().slice(0, 10);
  return `Original deleted on ${day} (${media.original_deleted_reason || "retention"}). Its hashes, results and custody log are kept.`;
}
