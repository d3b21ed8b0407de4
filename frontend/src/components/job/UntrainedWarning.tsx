import type { Job } from "../../api/types";
import { untrainedDetectors } from "../../lib/verdict";

export function UntrainedWarning({ job }: { job: Job }) {
  const names = untrainedDetectors(job);
  const trained = job.detector_set.filter((d) => d.trained).map((d) => d.name);
  const scored = typeof job.verdict?.score === "number";
  const list = names.length ? names.join(", ") : "some detectors";
  return (
    <div className="note warn" role="status" data-testid="untrained-warning">
      {scored ? (
        <>
          <strong>Partly untrained ensemble.</strong> {list} {names.length === 1 ? "has" : "have"} no trained weights and did not
          vote; the verdict rests on {trained.length ? trained.join(", ") : "the trained detectors"} only.
        </>
      ) : (
        <>
          <strong>Not scored: untrained detectors.</strong> {list} {names.length === 1 ? "has" : "have"} no trained weights yet,
          so no face was scored and there is no probability of manipulation. Faces, tracks and input quality below are real;
          analyse the file again once trained weights are installed.
        </>
      )}
    </div>
  );
}
