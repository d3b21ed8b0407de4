import { useEffect, useRef } from "react";
import { Link } from "react-router-dom";
import { useQueryClient } from "@tanstack/react-query";
import { keys, useCancelJob, useJob, useRetryJob } from "../api/queries";
import type { Job } from "../api/types";
import { formatBytes, formatDateTime } from "../lib/format";
import { STAGES, STAGE_TEXT, isActive } from "../lib/verdict";
import { jobErrorText } from "../lib/wrongMoves";
import { ProgressBar, ReviewBadge, StateBadge, VerdictBadge } from "./Badges";
import { ErrorNote } from "./ErrorNote";

export function JobCard({ initial }: { initial: Job }) {
  const client = useQueryClient();
  const { data: job = initial } = useJob(initial.id, initial);
  const cancel = useCancelJob();
  const retry = useRetryJob();

  // When a job finishes, the case (latest verdict, counts) and the case list are stale.
  const wasActive = useRef(isActive(initial.state));
  useEffect(() => {
    if (wasActive.current && !isActive(job.state)) {
      client.invalidateQueries({ queryKey: keys.case(job.case) });
      client.invalidateQueries({ queryKey: ["cases"] });
    }
    wasActive.current = isActive(job.state);
  }, [job.state, job.case, client]);

  const name = job.media?.original_name ?? `Job ${job.id}`;
  return (
    <li className="card job-card" data-testid="job-card" data-job-id={job.id} data-state={job.state}>
      <div className="job-head">
        <div className="job-title">
          <strong className="filename" title={name}>
            {name}
          </strong>
          <span className="muted small">
            {job.media?.kind} · {formatBytes(job.media?.size_bytes)} · job #{job.id}
            {job.attempts > 1 && ` · attempt ${job.attempts}`} · {formatDateTime(job.created_at)}
          </span>
        </div>
        <StateBadge state={job.state} testId="job-state" />
      </div>

      {isActive(job.state) && (
        <div className="job-progress">
          <StageSteps job={job} />
          <ProgressBar value={job.progress} label={`Analysis of ${name}`} testId="job-progress" />
          <span className="muted small" data-testid="job-stage">
            {STAGE_TEXT[job.stage] ?? job.stage} · {Math.round(job.progress)}%
          </span>
        </div>
      )}

      {job.state === "failed" && (
        <div className="note error" role="alert" data-testid="job-error">
          <strong>Analysis failed{job.error_code ? ` (${job.error_code})` : ""}:</strong> {jobErrorText(job)}
          {!job.retryable && job.error_code && <> Analysing the same file again would give the same answer: upload a readable copy.</>}
        </div>
      )}

      <div className="job-actions">
        {job.state === "succeeded" && (
          <>
            <VerdictBadge verdict={job.verdict} testId="job-verdict" />
            <ReviewBadge status={job.review_status} label={job.review_label} testId="job-review" />
            <Link to={`/jobs/${job.id}`} className="button primary" data-testid="job-open">
              Open verdict
            </Link>
          </>
        )}
        {job.retryable && (
          <button type="button" className="button" onClick={() => retry.mutate(job)} disabled={retry.isPending} data-testid="job-retry">
            {retry.isPending ? "Retrying…" : "Retry"}
          </button>
        )}
        {isActive(job.state) && (
          <button type="button" className="button ghost" onClick={() => cancel.mutate(job)} disabled={cancel.isPending} data-testid="job-cancel">
            Cancel
          </button>
        )}
        {job.state !== "succeeded" && (
          <Link to={`/jobs/${job.id}`} className="button ghost">
            Details
          </Link>
        )}
      </div>
      {retry.isError && <ErrorNote error={retry.error} title="Retry refused" />}
      {cancel.isError && <ErrorNote error={cancel.error} title="Cancel refused" />}
    </li>
  );
}

export function StageSteps({ job }: { job: Pick<Job, "stage" | "state"> }) {
  const current = STAGES.indexOf(job.stage);
  return (
    <ol className="stages" aria-label="Analysis stages">
      {STAGES.map((stage, index) => {
        const status = index < current || job.state === "succeeded" ? "done" : index === current ? "current" : "pending";
        return (
          <li key={stage} className={`stage ${status}`} aria-current={status === "current" ? "step" : undefined}>
            {STAGE_TEXT[stage]}
          </li>
        );
      })}
    </ol>
  );
}
