import type { Verdict } from "../../api/types";
import {
  aggregationText,
  bandText,
  formatPManipulated,
  scoreZone,
  verdictDisplay,
  verdictHeadline,
  verdictTone,
  verdictWords,
} from "../../lib/verdict";

export function VerdictPanel({ verdict, mediaKind, coverage }: { verdict: Verdict | null; mediaKind: string; coverage?: string | null }) {
  if (!verdict) {
    return (
      <section className="card" data-testid="verdict">
        <h2>Verdict</h2>
        <p className="muted">The analysis finished without a verdict.</p>
      </section>
    );
  }
  const display = verdictDisplay(verdict);
  const { manipulated, authentic } = verdict.thresholds;
  const score = verdict.score;
  const abstained = Object.entries(verdict.abstained ?? {});
  return (
    <section
      className={`card verdict verdict-${verdictTone(verdict)} verdict-status-${display.status}`}
      aria-labelledby="verdict-title"
      data-testid="verdict"
      data-status={display.status}
    >
      <h2 id="verdict-title">Verdict</h2>
      <p className="verdict-label" data-testid="verdict-label">
        {display.label}
        {display.status === "untrained" && <span className="badge warn verdict-flag">not scored</span>}
      </p>
      {verdict.caveat && (
        <p className="note warn small" data-testid="verdict-caveat">
          {verdict.caveat}
        </p>
      )}
      {typeof score === "number" ? (
        <p className="verdict-score">
          <span className="big" data-testid="verdict-score">
            {display.probability}
          </span>
        </p>
      ) : (
        <p className="verdict-score" data-testid="verdict-score">
          {display.statusText}
        </p>
      )}
      {display.confidence && (
        <p className={`confidence confidence-${display.confidence.level}`} data-testid="verdict-confidence">
          {display.confidence.text}
        </p>
      )}
      {typeof score === "number" && display.statusText && <p className="muted small">{display.statusText}</p>}
      {typeof score === "number" && typeof manipulated === "number" && typeof authentic === "number" && (
        <div className="scale" role="img" aria-label={`${display.probability} on the scale from no finding to manipulated`}>
          <div className="scale-zone authentic" style={{ width: `${authentic * 100}%` }} />
          <div className="scale-zone inconclusive" style={{ width: `${(manipulated - authentic) * 100}%` }} />
          <div className="scale-zone manipulated" style={{ width: `${(1 - manipulated) * 100}%` }} />
          <div className={`scale-marker zone-${scoreZone(score, verdict.thresholds)}`} style={{ left: `${score * 100}%` }} />
        </div>
      )}
      {typeof score === "number" && typeof manipulated === "number" && typeof authentic === "number" && (
        <p className="muted small" data-testid="verdict-band">
          {bandText(verdict)}
          {mediaKind === "video" && ` Frames combined by ${aggregationText(verdict.aggregation)}.`}
        </p>
      )}
      {verdict.per_kind.length > 1 && (
        <ul className="kinds" data-testid="verdict-kinds" aria-label="Verdict per kind of manipulation">
          {verdict.per_kind.map((k) => (
            <li key={k.kind} data-testid="verdict-kind" className={`kind kind-${k.label}`}>
              <strong>{k.name}</strong>: {formatPManipulated(k.score)} ({verdictWords({ label: k.label })}){" "}
              <span className="muted small">by {(k.detectors ?? []).join(", ")}</span>
            </li>
          ))}
        </ul>
      )}
      {abstained.length > 0 && (
        <ul className="small abstained" data-testid="verdict-abstained" aria-label="Detectors that did not vote">
          {abstained.map(([name, why]) => (
            <li key={name}>
              <strong>{name}</strong> did not vote: {why}.
            </li>
          ))}
        </ul>
      )}
      {mediaKind === "video" && coverage && (
        <p className="small" data-testid="verdict-coverage">
          {coverage}
        </p>
      )}
      <p className="visually-hidden">{verdictHeadline(verdict)}</p>
      {verdict.reason && (
        <p className="small" data-testid="verdict-reason">
          {verdict.reason}
        </p>
      )}
    </section>
  );
}
