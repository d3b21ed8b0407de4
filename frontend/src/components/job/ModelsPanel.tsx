import type { Job } from "../../api/types";
import { cardFigures, cardSummary } from "../../lib/cards";
import { formatScore, shortHash } from "../../lib/format";
import { detectorKindName } from "../../lib/verdict";

export function ModelsPanel({ job }: { job: Job }) {
  if (!job.detector_set.length) return null;
  // A list rather than a table: the details column is narrow and a hash does not wrap.
  return (
    <section className="card" aria-labelledby="models-title" data-testid="models-used">
      <h2 id="models-title">Models used</h2>
      <ul className="models">
        {job.detector_set.map((d) => (
          <li key={d.name} data-testid="model-row">
            <div className="model-head">
              <strong>{d.name}</strong> <span className="muted small">v{d.version}</span>
              {!d.trained && <span className="badge warn small-badge">untrained</span>}
              <span className="model-score" title="This detector's score for the whole video or image">
                {d.trained ? formatScore(job.verdict?.per_detector?.[d.name]) : "not scored"}
              </span>
            </div>
            {detectorKindName(job.verdict, d.name) && (
              <div className="small" data-testid="model-kind">
                Looks for: {detectorKindName(job.verdict, d.name)}
              </div>
            )}
            <div className="muted small">{d.architecture}</div>
            <HeldOut card={d.card} />
            <div className="small">
              Checkpoint{" "}
              {d.sha256 ? (
                <code className="hash" title={d.sha256}>
                  sha256 {shortHash(d.sha256, 16)}…
                </code>
              ) : (
                <span className="muted">none (no trained weights)</span>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );
}

/** How the detector did on videos no training split used (its model card), when the worker recorded one. */
function HeldOut({ card }: { card: Record<string, unknown> | undefined }) {
  const figures = cardFigures(card);
  if (!figures) return null;
  return (
    <div className="small" data-testid="model-card">
      Tested: {cardSummary(figures)}
    </div>
  );
}
