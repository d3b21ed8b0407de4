import { useState } from "react";
import { useMe, useReviewJob } from "../../api/queries";
import type { Job } from "../../api/types";
import { canReview, reviewConclusion, reviewDraftProblem, reviewRequest, type ReviewDraft } from "../../lib/review";
import { verdictLabelText, verdictWords } from "../../lib/verdict";
import { ErrorNote } from "../ErrorNote";

// The labels a reviewer may conclude instead of the machine's (cases.models.VerdictLabel, less "no faces").
const OVERRIDE_LABELS = ["manipulated", "authentic", "inconclusive"] as const;

/**
 * The reviewer's conclusion next to the machine verdict (an override never hides what the detectors said),
 * and, for the team's reviewers and admins, the form that records one.
 */
export function ReviewPanel({ job, teamId }: { job: Job; teamId: number | undefined }) {
  const me = useMe();
  const shown = reviewConclusion(job.review, job.verdict);
  const mayReview = canReview(me.data, teamId);
  return (
    <section className="card" aria-labelledby="review-title" data-testid="review-conclusion">
      <h2 id="review-title">Review</h2>
      {shown ? (
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
      ) : (
        <p className="muted small">Not reviewed: the verdict is the detectors' alone.</p>
      )}
      {mayReview ? (
        <ReviewForm job={job} reviewed={Boolean(shown)} />
      ) : (
        me.data && <p className="muted small" data-testid="review-not-allowed">Only a reviewer or an admin of this team can record a review.</p>
      )}
    </section>
  );
}

function ReviewForm({ job, reviewed }: { job: Job; reviewed: boolean }) {
  const review = useReviewJob();
  const [draft, setDraft] = useState<ReviewDraft>({ agree: true, overrideLabel: "", reason: "" });
  const [tried, setTried] = useState(false);
  const problem = reviewDraftProblem(draft);
  const machine = job.verdict ? verdictWords(job.verdict) : "no verdict";

  function submit(event: React.FormEvent) {
    event.preventDefault();
    setTried(true);
    if (problem || review.isPending) return;
    review.mutate(
      { job, review: reviewRequest(draft) },
      { onSuccess: () => (setDraft({ agree: true, overrideLabel: "", reason: "" }), setTried(false)) },
    );
  }

  return (
    <form className="review-form stack" onSubmit={submit} data-testid="review-form" noValidate>
      <fieldset>
        <legend>{reviewed ? "Record a new review" : "Record your review"}</legend>
        <label className="choice">
          <input
            type="radio"
            name="review-choice"
            checked={draft.agree}
            onChange={() => setDraft({ ...draft, agree: true })}
            data-testid="review-agree"
          />{" "}
          Agree with the machine verdict ({machine})
        </label>
        <label className="choice">
          <input
            type="radio"
            name="review-choice"
            checked={!draft.agree}
            onChange={() => setDraft({ ...draft, agree: false })}
            disabled={!job.verdict}
            data-testid="review-override"
          />{" "}
          Override it with my own conclusion
        </label>
      </fieldset>
      {!draft.agree && (
        <label className="field">
          <span>My conclusion</span>
          <select
            value={draft.overrideLabel}
            onChange={(e) => setDraft({ ...draft, overrideLabel: e.target.value })}
            data-testid="review-label"
          >
            <option value="">Choose…</option>
            {OVERRIDE_LABELS.map((label) => (
              <option key={label} value={label}>
                {verdictLabelText(label)}
              </option>
            ))}
          </select>
        </label>
      )}
      <label className="field">
        <span>Reason{draft.agree ? " (optional)" : " (required)"}</span>
        <textarea
          rows={3}
          maxLength={4000}
          value={draft.reason}
          onChange={(e) => setDraft({ ...draft, reason: e.target.value })}
          data-testid="review-reason-input"
        />
      </label>
      {tried && problem && (
        <p className="note error small" role="alert" data-testid="review-problem">
          {problem}
        </p>
      )}
      {review.isError && <ErrorNote error={review.error} title="The review was not recorded" />}
      <button type="submit" className="button primary" disabled={review.isPending} data-testid="review-submit">
        {review.isPending ? "Recording…" : "Record review"}
      </button>
      {review.isSuccess && !tried && (
        <p className="muted small" role="status" data-testid="review-recorded">
          Review recorded in the custody log.
        </p>
      )}
    </form>
  );
}
