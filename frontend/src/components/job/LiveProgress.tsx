import { useCancelJob } from "../../api/queries";
import type { Job } from "../../api/types";
import { STAGE_TEXT } from "../../lib/verdict";
import { ProgressBar } from "../Badges";
import { StageSteps } from "../JobCard";

export function LiveProgress({ job }: { job: Job }) {
  const cancel = useCancelJob();
  return (
    <section className="card" aria-labelledby="progress-title">
      <h2 id="progress-title">Analysis in progress</h2>
      <StageSteps job={job} />
      <ProgressBar value={job.progress} label="Analysis progress" testId="job-progress" />
      <p className="muted small" aria-live="polite" data-testid="job-stage">
        {STAGE_TEXT[job.stage] ?? job.stage} · {Math.round(job.progress)}%
      </p>
      <button type="button" className="button ghost" onClick={() => cancel.mutate(job)} disabled={cancel.isPending}>
        Cancel
      </button>
    </section>
  );
}
