import type { Job } from "../../api/types";
import { cardFigures, cardSummary, type CardMediaKind } from "../../lib/cards";
import { shortHash } from "../../lib/format";
import { detectorKindName, formatPManipulated } from "../../lib/verdict";

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
              <span className="model-score" title={`This detector's score for the whole ${job.media.kind}`}>
                {d.trained ? formatPManipulated(job.verdict?.per_detector?.[d.name]) : "not scored"}
              </span>
            </div>
            {detectorKindName(job.verdict, d.name) && (
              <div className="small" data-testid="model-kind">
                Looks for: {detectorKindName(job.verdict, d.name)}
              </div>
            )}
            <div className="muted small">{d.architecture}</div>
            <HeldOut card={d.card} mediaKind={job.media.kind as CardMediaKind} />
            {job.verdict?.abstained?.[d.name] && (
              <div className="small note warn" data-testid="model-abstained">
                Did not vote on this {job.media.kind}: {job.verdict.abstained[d.name]}.
              </div>
            )}
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

/** How the detector did on test items no training split used (its model card), when the worker recorded one:
 * on this job's kind of media where the card measured it. */
function HeldOut({ card, mediaKind }: { card: Record<string, unknown> | undefined; mediaKind: CardMediaKind }) {
  const figures = cardFigures(card, mediaKind);
  if (!figures) return null;
  return (
    <div className="small" data-testid="model-card">
      Tested: {cardSummary(figures)}
    </div>
  );
}
