import type { Job } from "../../api/types";
import { reviewConclusion } from "../../lib/review";

/** The reviewer's conclusion next to the machine verdict: an override never hides what the detectors said. */
export function ReviewPanel({ job }: { job: Pick<Job, "review" | "verdict"> }) {
  const shown = reviewConclusion(job.review, job.verdict);
  if (!shown) return null;
  return (
    <section className="card" aria-labelledby="review-title" data-testid="review-conclusion">
      <h2 id="review-title">Review</h2>
      <dl className="review-conclusion">
        <dt>Machine verdict</dt>
        <dd data-testid="review-machine">{shown.machine}</dd>
        <dt>Reviewer's conclusion</dt>
        <dd data-testid="review-conclusion-text" className={shown.overridden ? "overridden" : undefined}>
          {shown.conclusion}
        </dd>
        <dt>By</dt>
        <dd>
          {shown.reviewer}, {shown.when}
        </dd>
        <dt>Why</dt>
        <dd data-testid="review-reason">{shown.why}</dd>
      </dl>
    </section>
  );
}
