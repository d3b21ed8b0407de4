import { useRef, useState, type DragEvent } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router-dom";
import { api } from "../api/client";
import { keys, useDetectors, useJob } from "../api/queries";
import type { Job, Paginated } from "../api/types";
import { uploadMedia } from "../api/upload";
import { formatBytes } from "../lib/format";
import { STAGE_TEXT, STATE_TEXT, isActive, verdictWords } from "../lib/verdict";
import { defaultText, detectorLine } from "../lib/detectors";
import { fileSha256 } from "../lib/wrongMoves";
import { ProgressBar } from "./Badges";

/** Two at a time keeps one slow upload from starving the rest without flooding the server. */
const MAX_PARALLEL_UPLOADS = 2;
const DEFAULT_FRAMES = 32;

type UploadStatus = "checking" | "duplicate" | "waiting" | "uploading" | "done" | "rejected";

interface UploadItem {
  key: string;
  file: File;
  frames: number;
  detectors: string[];
  status: UploadStatus;
  fraction: number;
  error?: string;
  /** The analysis the upload started: its line follows the job to its end. */
  job?: Job;
  /** The file's sha256, when the browser could hash it: the same content is found again by it. */
  sha256?: string | null;
  /** Why it waits for a decision: the same content was analysed before, or is already in this list. */
  duplicate?: { job?: Job; sameAs?: string };
}

export function UploadPanel({ caseId }: { caseId: number }) {
  const client = useQueryClient();
  const [items, setItems] = useState<UploadItem[]>([]);
  const [dragging, setDragging] = useState(false);
  const [frames, setFrames] = useState(DEFAULT_FRAMES);
  // Empty: each file runs the default set of its kind of media.
  const [detectors, setDetectors] = useState<string[]>([]);
  const choices = useDetectors();
  const inputRef = useRef<HTMLInputElement>(null);
  const waiting = useRef<UploadItem[]>([]);
  const running = useRef(0);
  const counter = useRef(0);
  // sha256 → the file name first added with it, in this panel.
  const seen = useRef(new Map<string, string>());

  const patch = (key: string, changes: Partial<UploadItem>) =>
    setItems((list) => list.map((item) => (item.key === key ? { ...item, ...changes } : item)));

  function pump() {
    while (running.current < MAX_PARALLEL_UPLOADS && waiting.current.length) {
      const item = waiting.current.shift() as UploadItem;
      running.current += 1;
      patch(item.key, { status: "uploading" });
      uploadMedia({
        caseId,
        file: item.file,
        frames: item.frames,
        detectors: item.detectors,
        onProgress: (fraction) => patch(item.key, { fraction }),
      })
        .then((job) => {
          patch(item.key, { status: "done", fraction: 1, job });
          client.invalidateQueries({ queryKey: keys.case(caseId) });
          client.invalidateQueries({ queryKey: ["cases"] });
        })
        .catch((error: Error) => patch(item.key, { status: "rejected", error: error.message }))
        .finally(() => {
          running.current -= 1;
          pump();
        });
    }
  }

  function addFiles(files: FileList | File[] | null) {
    if (!files || !files.length) return;
    const detectorList = [...detectors];
    const added = Array.from(files).map<UploadItem>((file) => ({
      key: `${(counter.current += 1)}`,
      file,
      frames,
      detectors: detectorList,
      status: "checking",
      fraction: 0,
    }));
    setItems((list) => [...added, ...list]);
    for (const item of added) void check(item);
  }

  /**
   * The same file chosen twice is caught before it is uploaded again: by its sha256 among this list's files and
   * the team's jobs. The analyst then opens the earlier analysis or analyses it again on purpose.
   */
  async function check(item: UploadItem) {
    let sha256: string | null = null;
    try {
      sha256 = await fileSha256(item.file);
    } catch {
      sha256 = null;
    }
    const sameAs = sha256 ? seen.current.get(sha256) : undefined;
    if (sha256 && !sameAs) seen.current.set(sha256, item.file.name);
    let earlier: Job | undefined;
    if (sha256) {
      try {
        earlier = (await api.get<Paginated<Job>>(`jobs/?sha256=${sha256}`)).results[0];
      } catch {
        earlier = undefined; // the check is a courtesy: the upload goes ahead
      }
    }
    if (sameAs || earlier) {
      // An earlier analysis is named first: it is what the analyst can open.
      patch(item.key, { status: "duplicate", sha256, duplicate: earlier ? { job: earlier } : { sameAs } });
      return;
    }
    enqueue({ ...item, sha256 });
  }

  function enqueue(item: UploadItem) {
    patch(item.key, { status: "waiting", sha256: item.sha256, duplicate: undefined });
    waiting.current.push(item);
    pump();
  }

  function skip(item: UploadItem) {
    setItems((list) => list.filter((i) => i.key !== item.key));
  }

  function onDrop(event: DragEvent) {
    event.preventDefault();
    setDragging(false);
    addFiles(event.dataTransfer.files);
  }

  const finished = items.filter((i) => i.status === "done" || i.status === "rejected");
  return (
    <section className="card" aria-labelledby="upload-title">
      <h2 id="upload-title">Add media</h2>
      <div
        className={`dropzone${dragging ? " dragging" : ""}`}
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => e.preventDefault()}
        onDragLeave={(e) => {
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={onDrop}
        data-testid="upload-dropzone"
      >
        <p>Drop videos or images here, or</p>
        <button type="button" className="button primary" onClick={() => inputRef.current?.click()} data-testid="upload-choose">
          Choose files…
        </button>
        <input
          ref={inputRef}
          type="file"
          multiple
          accept="video/*,image/*"
          className="visually-hidden"
          tabIndex={-1}
          aria-hidden="true"
          onChange={(e) => {
            addFiles(e.target.files);
            e.target.value = "";
          }}
          data-testid="upload-input"
        />
        <p className="muted small">The server checks each file's real type and size; rejected files are listed below with the reason.</p>
      </div>
      <details className="upload-settings">
        <summary>Analysis settings</summary>
        <div className="form-grid">
          <label className="field">
            <span>Frames to sample</span>
            <input
              type="number"
              min={1}
              max={1000}
              value={frames}
              onChange={(e) => setFrames(Math.max(1, Number(e.target.value) || DEFAULT_FRAMES))}
              data-testid="upload-frames"
            />
          </label>
          <fieldset className="field span-2 detector-choices" data-testid="upload-detectors">
            <legend>Detectors (none ticked: the default set of each file's kind of media)</legend>
            {choices.isError && <p className="note error small">The detector list could not be loaded.</p>}
            {(choices.data ?? []).map((choice) => (
              <label key={choice.name} className="choice" data-testid="detector-choice">
                <input
                  type="checkbox"
                  value={choice.name}
                  checked={detectors.includes(choice.name)}
                  onChange={(e) =>
                    setDetectors((list) => (e.target.checked ? [...list, choice.name] : list.filter((n) => n !== choice.name)))
                  }
                />{" "}
                <strong>{choice.name}</strong>
                {defaultText(choice) && <span className="badge small-badge">{defaultText(choice)}</span>}
                <span className="muted small detector-line"> {detectorLine(choice)}</span>
              </label>
            ))}
          </fieldset>
        </div>
      </details>
      {items.length > 0 && (
        <ul className="upload-list" aria-label="Uploads" aria-live="polite">
          {items.map((item) => (
            <li key={item.key} className={`upload-item ${item.status}`} data-testid="upload-item" data-status={item.status}>
              <div className="upload-line">
                <span className="filename" title={item.file.name}>
                  {item.file.name}
                </span>
                <span className="muted small">{formatBytes(item.file.size)}</span>
                <span className="upload-status small">
                  {item.status === "done" && item.job ? <UploadedJobStatus initial={item.job} /> : uploadStatusText(item)}
                </span>
              </div>
              {(item.status === "uploading" || item.status === "waiting") && (
                <ProgressBar value={item.fraction * 100} label={`Uploading ${item.file.name}`} testId="upload-progress" />
              )}
              {item.status === "duplicate" && item.duplicate && (
                <div className="note warn" role="status" data-testid="upload-duplicate">
                  {item.duplicate.job ? (
                    <>
                      {item.file.name} was already analysed as{" "}
                      <Link to={`/jobs/${item.duplicate.job.id}`} data-testid="upload-duplicate-link">
                        job #{item.duplicate.job.id}
                      </Link>
                      {item.duplicate.job.case !== caseId && " (in another case)"}.
                    </>
                  ) : (
                    <>
                      {item.file.name} is the same file as {item.duplicate.sameAs}, already in this list.
                    </>
                  )}{" "}
                  <button type="button" className="button small" onClick={() => enqueue(item)} data-testid="upload-rerun">
                    Analyse again
                  </button>{" "}
                  <button type="button" className="button ghost small" onClick={() => skip(item)} data-testid="upload-skip">
                    Skip
                  </button>
                </div>
              )}
              {item.status === "rejected" && (
                <p className="note error" role="alert" data-testid="upload-error">
                  <strong>{item.file.name} was rejected:</strong> {item.error}
                </p>
              )}
            </li>
          ))}
        </ul>
      )}
      {finished.length > 0 && (
        <button
          type="button"
          className="button ghost small"
          onClick={() => setItems((list) => list.filter((i) => i.status !== "done" && i.status !== "rejected"))}
        >
          Clear finished uploads
        </button>
      )}
    </section>
  );
}

function uploadStatusText(item: UploadItem): string {
  switch (item.status) {
    case "checking":
      return "Checking…";
    case "duplicate":
      return "Duplicate";
    case "waiting":
      return "Waiting…";
    case "uploading":
      return item.fraction >= 1 ? "Processing…" : `${Math.round(item.fraction * 100)}%`;
    case "done":
      return "Uploaded, analysis queued";
    case "rejected":
      return "Rejected";
  }
}

/** An uploaded file's analysis as it goes, to its end state (the job is polled once, shared with its card). */
function UploadedJobStatus({ initial }: { initial: Job }) {
  const { data: job = initial } = useJob(initial.id, initial);
  let text: string;
  if (isActive(job.state)) {
    text = job.state === "queued" ? "Uploaded, analysis queued" : `${STAGE_TEXT[job.stage] ?? job.stage} · ${Math.round(job.progress)}%`;
  } else if (job.state === "succeeded") {
    text = `Done: ${verdictWords(job.verdict)}`;
  } else {
    text = `${STATE_TEXT[job.state]}${job.error_code ? ` (${job.error_code})` : ""}`;
  }
  return (
    <Link to={`/jobs/${job.id}`} data-testid="upload-job-status" data-state={job.state}>
      {text}
    </Link>
  );
}
