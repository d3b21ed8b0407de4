import { useNavigate } from "react-router-dom";
import { useRetryJob } from "../../api/queries";
import type { Job } from "../../api/types";
import { jobErrorText } from "../../lib/wrongMoves";
import { ErrorNote } from "../ErrorNote";

export function FailedPanel({ job }: { job: Job }) {
  const retry = useRetryJob();
  const navigate = useNavigate();
  return (
    <section className="card" aria-labelledby="failed-title">
      <h2 id="failed-title">{job.state === "failed" ? "Analysis failed" : "Analysis cancelled"}</h2>
      {job.state === "failed" ? (
        <div className="note error" role="alert" data-testid="job-error">
          <strong>Reason{job.error_code ? ` (${job.error_code})` : ""}:</strong> {jobErrorText(job)}
          {job.attempts > 1 && ` Tried ${job.attempts} times.`}
        </div>
      ) : (
        <p>This analysis was cancelled before it finished.</p>
      )}
      {!job.retryable && job.state === "failed" && (
        <p className="small" data-testid="job-not-retryable">
          The file itself is the problem: analysing it again would give the same answer. Upload a readable copy to the case.
        </p>
      )}
      {job.retryable && (
      <button
        type="button"
        className="button primary"
        onClick={() => retry.mutate(job, { onSuccess: (created) => navigate(`/jobs/${created.id}`) })}
        disabled={retry.isPending}
        data-testid="job-retry"
      >
        {retry.isPending ? "Retrying…" : "Retry analysis"}
      </button>
      )}
      {retry.isError && <ErrorNote error={retry.error} title="Retry refused" />}
    </section>
  );
}
