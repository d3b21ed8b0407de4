import type { JobState, VerdictBrief } from "../api/types";
import { reviewBadgeText } from "../lib/review";
import { STATE_TEXT, formatPManipulated, verdictTone, verdictWords } from "../lib/verdict";

/** A case's latest verdict or a job's own: the label (and its words), score and untrained flag both have. */
type VerdictSummary = Pick<VerdictBrief, "label" | "label_text" | "score" | "untrained">;

export function VerdictBadge({ verdict, testId }: { verdict: VerdictSummary | null; testId?: string }) {
  if (!verdict) return <span className="badge neutral">No verdict</span>;
  return (
    <span className={`badge verdict-${verdictTone(verdict)}`} data-testid={testId}>
      {verdictWords(verdict)}
      {verdict.score !== null && verdict.label !== "no_faces" && <span className="badge-score"> · {formatPManipulated(verdict.score)}</span>}
      {verdict.score === null && verdict.untrained && verdict.label !== "no_faces" && <span className="badge-score"> · not scored</span>}
    </span>
  );
}

/** The reviewer's conclusion beside the machine's verdict; nothing while the job is not reviewed. */
export function ReviewBadge({ status, label, testId }: { status?: string | null; label?: string | null; testId?: string }) {
  const text = reviewBadgeText(status, label);
  if (!text) return null;
  return (
    <span className={`badge review review-${status}${label ? ` verdict-${label}` : ""}`} data-testid={testId}>
      {text}
    </span>
  );
}

export function StateBadge({ state, testId }: { state: JobState; testId?: string }) {
  return (
    <span className={`badge state-${state}`} data-testid={testId} data-state={state}>
      {STATE_TEXT[state] ?? state}
    </span>
  );
}

export function ProgressBar({ value, label, testId }: { value: number; label: string; testId?: string }) {
  const clamped = Math.max(0, Math.min(100, Math.round(value)));
  return (
    <div
      className="progress"
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={clamped}
      data-testid={testId}
    >
      <div className="progress-fill" style={{ width: `${clamped}%` }} />
    </div>
  );
}

export function TagList({ tags }: { tags: string[] }) {
  if (tags.length === 0) return null;
  return (
    <div className="tags">
      {tags.map((t) => (
        <span key={t} className="tag">
          {t}
        </span>
      ))}
    </div>
  );
}
