import { useCallback, useMemo, useRef, useState } from "react";
import { Link, useNavigate, useParams } from "react-router-dom";
import { API_ROOT } from "../api/client";
import { useCancelJob, useCase, useFrames, useJob, useRetryJob } from "../api/queries";
import type { Job, Verdict } from "../api/types";
import { ProgressBar, StateBadge } from "../components/Badges";
import { DetectorComparison } from "../components/DetectorComparison";
import { ErrorNote } from "../components/ErrorNote";
import { FaceGallery } from "../components/FaceGallery";
import { StageSteps } from "../components/JobCard";
import { ScoreTimeline } from "../components/ScoreTimeline";
import { formatBytes, formatDateTime, formatScore, formatTimestamp, shortHash } from "../lib/format";
import { qualityWarnings } from "../lib/quality";
import { buildTimeline, readoutAt, type TimelineMode } from "../lib/timeline";
import {
  STAGE_TEXT,
  aggregationText,
  hasUntrainedDetector,
  isActive,
  scoreZone,
  untrainedDetectors,
  verdictDisplay,
  verdictHeadline,
} from "../lib/verdict";

const TIMELINE_MODES: { mode: TimelineMode; label: string }[] = [
  { mode: "frame", label: "Per frame" },
  { mode: "detector", label: "Per detector" },
  { mode: "track", label: "Per face track" },
];

export function JobPage() {
  const jobId = Number(useParams().jobId);
  const jobQuery = useJob(jobId);

  if (jobQuery.isPending) return <p className="muted">Loading analysis…</p>;
  if (jobQuery.isError) return <ErrorNote error={jobQuery.error} title="This analysis could not be loaded" />;
  return <JobView job={jobQuery.data} />;
}

function JobView({ job }: { job: Job }) {
  const frames = useFrames(job);
  const caseDetail = useCase(job.case);
  const videoRef = useRef<HTMLVideoElement>(null);
  const [currentTime, setCurrentTime] = useState(0);
  const [mode, setMode] = useState<TimelineMode>("frame");
  const [playable, setPlayable] = useState(true);

  const seek = useCallback((timeS: number) => {
    const video = videoRef.current;
    if (video) video.currentTime = timeS;
    setCurrentTime(timeS);
  }, []);

  const detectorOrder = useMemo(() => job.detector_set.map((d) => d.name), [job.detector_set]);
  const timeline = useMemo(() => buildTimeline(frames.data ?? [], mode, detectorOrder), [frames.data, mode, detectorOrder]);
  const currentFrameIndex = job.media.kind === "video" ? (readoutAt(timeline, currentTime)?.frameIndex ?? null) : null;
  const warnings = useMemo(() => qualityWarnings(job.diagnostics, job.media, frames.data), [job.diagnostics, job.media, frames.data]);
  const contentUrl = job.media.content_url || `${API_ROOT}/media/${job.media.id}/content/`;
  const name = job.media.original_name;

  return (
    <div className="stack">
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link to="/">Cases</Link> <span aria-hidden="true">/</span> <Link to={`/cases/${job.case}`}>{caseDetail.data?.title ?? `Case #${job.case}`}</Link>{" "}
        <span aria-hidden="true">/</span> <span>{name}</span>
      </nav>
      <div className="page-head">
        <h1 className="filename" title={name} data-testid="job-title">
          {name}
        </h1>
        <StateBadge state={job.state} testId="job-state" />
      </div>

      {isActive(job.state) && <LiveProgress job={job} />}
      {(job.state === "failed" || job.state === "cancelled") && <FailedPanel job={job} />}

      {hasUntrainedDetector(job) && <UntrainedWarning job={job} />}

      <div className="job-grid">
        {job.state === "succeeded" && (
          <div className="stack summary-col">
            <VerdictPanel verdict={job.verdict} />
          </div>
        )}

        <div className="stack main-col">
          <section className="card" aria-labelledby="media-title">
            <h2 id="media-title">{job.media.kind === "video" ? "Video and score timeline" : "Image"}</h2>
            {job.media.kind === "video" ? (
              <video
                ref={videoRef}
                className="player"
                src={contentUrl}
                controls
                preload="metadata"
                onTimeUpdate={(e) => setCurrentTime(e.currentTarget.currentTime)}
                onSeeked={(e) => setCurrentTime(e.currentTarget.currentTime)}
                onError={() => setPlayable(false)}
                data-testid="video-player"
              />
            ) : (
              <img className="player" src={contentUrl} alt={name} data-testid="image-viewer" />
            )}
            {!playable && (
              <p className="note warn" data-testid="video-unplayable">
                This browser cannot play the original{job.media.codec ? ` (codec ${job.media.codec})` : ""}.
                {job.state === "succeeded" && " The timeline and faces still work."} Download the original to view it in a forensic
                player.
              </p>
            )}
            {job.state === "succeeded" && job.media.kind === "video" && (
              <>
                <div className="toolbar" role="group" aria-label="Timeline series">
                  {TIMELINE_MODES.map((m) => (
                    <button
                      key={m.mode}
                      type="button"
                      className="button segment"
                      aria-pressed={mode === m.mode}
                      onClick={() => setMode(m.mode)}
                      data-testid={`timeline-mode-${m.mode}`}
                    >
                      {m.label}
                    </button>
                  ))}
                  <span className="muted small">Video at {formatTimestamp(currentTime)}</span>
                </div>
                {frames.isPending && <p className="muted">Loading frame scores…</p>}
                {frames.isError && <ErrorNote error={frames.error} title="Frame scores could not be loaded" />}
                {frames.data && (
                  <ScoreTimeline
                    timeline={timeline}
                    durationS={job.media.duration_s}
                    currentTime={currentTime}
                    thresholds={job.verdict?.thresholds}
                    onSeek={seek}
                  />
                )}
              </>
            )}
          </section>

          {job.state === "succeeded" && (
            <section className="card" aria-labelledby="faces-title">
              <h2 id="faces-title">Faces by track</h2>
              {frames.isPending && <p className="muted">Loading faces…</p>}
              {frames.isError && <ErrorNote error={frames.error} title="Faces could not be loaded" />}
              {frames.data && <FaceGallery
                  frames={frames.data}
                  verdict={job.verdict}
                  onSeek={job.media.kind === "video" ? seek : undefined}
                  currentFrameIndex={currentFrameIndex}
                />}
            </section>
          )}
        </div>

        <div className={`stack details-col${job.state === "succeeded" ? "" : " alone"}`}>
          <EvidencePanel job={job} />
          <section className="card" aria-labelledby="quality-title" data-testid="quality-warnings">
            <h2 id="quality-title">Input quality</h2>
            {warnings.length ? (
              <ul className="warnings">
                {warnings.map((w) => (
                  <li key={w.code + w.message} className="note warn" data-testid="quality-warning">
                    {w.message}
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No input-quality concerns were reported.</p>
            )}
          </section>
          <ModelsPanel job={job} />
        </div>
      </div>

      {job.state === "succeeded" && (
        <section className="card" aria-labelledby="compare-title">
          <h2 id="compare-title">Detector comparison</h2>
          {frames.isPending && <p className="muted">Loading detector scores…</p>}
          {frames.data && (
            <DetectorComparison
              frames={frames.data}
              detectorSet={job.detector_set}
              verdict={job.verdict}
              onSeek={job.media.kind === "video" ? seek : undefined}
            />
          )}
        </section>
      )}
    </div>
  );
}

function UntrainedWarning({ job }: { job: Job }) {
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

function LiveProgress({ job }: { job: Job }) {
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

function FailedPanel({ job }: { job: Job }) {
  const retry = useRetryJob();
  const navigate = useNavigate();
  return (
    <section className="card" aria-labelledby="failed-title">
      <h2 id="failed-title">{job.state === "failed" ? "Analysis failed" : "Analysis cancelled"}</h2>
      {job.state === "failed" ? (
        <div className="note error" role="alert" data-testid="job-error">
          <strong>Reason{job.error_code ? ` (${job.error_code})` : ""}:</strong> {job.error_message || "no reason given."}
          {job.attempts > 1 && ` Tried ${job.attempts} times.`}
        </div>
      ) : (
        <p>This analysis was cancelled before it finished.</p>
      )}
      <button
        type="button"
        className="button primary"
        onClick={() => retry.mutate(job, { onSuccess: (created) => navigate(`/jobs/${created.id}`) })}
        disabled={retry.isPending}
        data-testid="job-retry"
      >
        {retry.isPending ? "Retrying…" : "Retry analysis"}
      </button>
      {retry.isError && <ErrorNote error={retry.error} title="Retry refused" />}
    </section>
  );
}

function VerdictPanel({ verdict }: { verdict: Verdict | null }) {
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
  return (
    <section
      className={`card verdict verdict-${verdict.label} verdict-status-${display.status}`}
      aria-labelledby="verdict-title"
      data-testid="verdict"
      data-status={display.status}
    >
      <h2 id="verdict-title">Verdict</h2>
      <p className="verdict-label" data-testid="verdict-label">
        {display.label}
        {display.status === "untrained" && <span className="badge warn verdict-flag">not scored</span>}
      </p>
      {typeof score === "number" ? (
        <p className="verdict-score">
          <span className="big" data-testid="verdict-score">
            {display.probability}
          </span>{" "}
          calibrated probability of manipulation
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
        <div className="scale" role="img" aria-label={`Score ${display.probability} on the scale from authentic to manipulated`}>
          <div className="scale-zone authentic" style={{ width: `${authentic * 100}%` }} />
          <div className="scale-zone inconclusive" style={{ width: `${(manipulated - authentic) * 100}%` }} />
          <div className="scale-zone manipulated" style={{ width: `${(1 - manipulated) * 100}%` }} />
          <div className={`scale-marker zone-${scoreZone(score, verdict.thresholds)}`} style={{ left: `${score * 100}%` }} />
        </div>
      )}
      {typeof manipulated === "number" && typeof authentic === "number" && (
        <p className="muted small">
          Confidence band: authentic at or below {formatScore(authentic)}, manipulated at or above {formatScore(manipulated)},
          inconclusive between. Frames combined by {aggregationText(verdict.aggregation)}.
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

function EvidencePanel({ job }: { job: Job }) {
  const media = job.media;
  const [copied, setCopied] = useState(false);
  async function copyHash() {
    try {
      await navigator.clipboard.writeText(media.sha256);
      setCopied(true);
      window.setTimeout(() => setCopied(false), 2000);
    } catch {
      setCopied(false);
    }
  }
  return (
    <section className="card" aria-labelledby="evidence-title">
      <h2 id="evidence-title">Evidence</h2>
      <dl className="facts">
        <dt>SHA-256</dt>
        <dd>
          <code className="hash" data-testid="media-sha256">
            {media.sha256}
          </code>{" "}
          <button type="button" className="button ghost small" onClick={copyHash}>
            {copied ? "Copied" : "Copy"}
          </button>
        </dd>
        <dt>Type</dt>
        <dd>
          {media.mime_type} · {formatBytes(media.size_bytes)}
        </dd>
        {media.kind === "video" && (
          <>
            <dt>Video</dt>
            <dd>
              {media.width && media.height
                ? `${media.width}×${media.height} · ${formatTimestamp(media.duration_s)} · ${media.fps ? `${media.fps.toFixed(2)} fps` : "— fps"}`
                : "not probed (the worker could not read it)"}
              {media.codec && ` · ${media.codec}`}
            </dd>
          </>
        )}
        {media.kind === "image" && (
          <>
            <dt>Image</dt>
            <dd>
              {media.width}×{media.height}
            </dd>
          </>
        )}
        <dt>Analysed</dt>
        <dd>
          {media.kind === "video" && `${framesSampled(job) ?? "—"} frames sampled · `}started {formatDateTime(job.started_at)} · finished{" "}
          {formatDateTime(job.finished_at)}
        </dd>
      </dl>
      <div className="actions">
        {job.state === "succeeded" && (
          <>
            <a className="button primary" href={job.report_url} target="_blank" rel="noopener" data-testid="export-report">
              Open report (HTML)
            </a>
            <a className="button" href={`${job.report_url}?download=1`} data-testid="download-report">
              Download report
            </a>
          </>
        )}
        <a className="button" href={media.download_url} download={media.original_name} data-testid="download-original">
          Download original
        </a>
      </div>
    </section>
  );
}

function ModelsPanel({ job }: { job: Job }) {
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
              <span className="model-score" title="This detector's video-level score">
                {d.trained ? formatScore(job.verdict?.per_detector?.[d.name]) : "not scored"}
              </span>
            </div>
            <div className="muted small">{d.architecture}</div>
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


/** What the worker sampled (a short clip has fewer frames than asked for), else what was asked. */
function framesSampled(job: Job): number | null {
  const sampled = job.diagnostics?.frames_sampled;
  return typeof sampled === "number" ? sampled : (job.settings?.frames ?? null);
}
