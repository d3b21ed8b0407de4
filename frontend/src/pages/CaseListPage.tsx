import { useEffect, useRef, useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { useCases, useCreateCase, type CaseListParams } from "../api/queries";
import { ReviewBadge, TagList, VerdictBadge } from "../components/Badges";
import { ErrorNote } from "../components/ErrorNote";
import { formatDateTime } from "../lib/format";
import { titleCount } from "../lib/wrongMoves";

const ORDERINGS = [
  { value: "-updated_at", label: "Recently updated" },
  { value: "-created_at", label: "Newest first" },
  { value: "created_at", label: "Oldest first" },
  { value: "title", label: "Title A–Z" },
];
const STATES = ["queued", "running", "succeeded", "failed", "cancelled"];
const VERDICTS = [
  { value: "manipulated", label: "Manipulated" },
  { value: "authentic", label: "Authentic" },
  { value: "inconclusive", label: "Inconclusive" },
  { value: "no_faces", label: "No faces" },
];
const SEARCH_DEBOUNCE_MS = 300;

export function CaseListPage() {
  const [searchParams, setSearchParams] = useSearchParams();
  const params: CaseListParams = {
    search: searchParams.get("search") ?? "",
    ordering: searchParams.get("ordering") ?? "-updated_at",
    page: Math.max(1, Number(searchParams.get("page")) || 1),
    state: searchParams.get("state") ?? "",
    verdict: searchParams.get("verdict") ?? "",
  };
  const cases = useCases(params);
  const [searchText, setSearchText] = useState(params.search);

  function update(changes: Partial<Record<keyof CaseListParams, string>>) {
    const next = new URLSearchParams(searchParams);
    for (const [key, value] of Object.entries(changes)) {
      if (value) next.set(key, value);
      else next.delete(key);
    }
    if (!("page" in changes)) next.delete("page");
    setSearchParams(next, { replace: "search" in changes });
  }

  useEffect(() => {
    if (searchText === params.search) return;
    const timer = window.setTimeout(() => update({ search: searchText }), SEARCH_DEBOUNCE_MS);
    return () => window.clearTimeout(timer);
  }, [searchText]);

  const data = cases.data;
  return (
    <div className="stack">
      <div className="page-head">
        <h1>Cases</h1>
      </div>
      <NewCaseForm />
      <section className="card" aria-labelledby="case-list-title">
        <h2 id="case-list-title" className="visually-hidden">
          Case list
        </h2>
        <form className="filters" role="search" onSubmit={(e) => e.preventDefault()}>
          <label className="field grow">
            <span>Search</span>
            <input
              type="search"
              placeholder="Title, notes, file name or sha256"
              value={searchText}
              onChange={(e) => setSearchText(e.target.value)}
              data-testid="case-search"
            />
          </label>
          <label className="field">
            <span>Job state</span>
            <select value={params.state} onChange={(e) => update({ state: e.target.value })} data-testid="case-filter-state">
              <option value="">Any</option>
              {STATES.map((s) => (
                <option key={s} value={s}>
                  {s[0]?.toUpperCase() + s.slice(1)}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Verdict</span>
            <select value={params.verdict} onChange={(e) => update({ verdict: e.target.value })} data-testid="case-filter-verdict">
              <option value="">Any</option>
              {VERDICTS.map((v) => (
                <option key={v.value} value={v.value}>
                  {v.label}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>Sort</span>
            <select value={params.ordering} onChange={(e) => update({ ordering: e.target.value })} data-testid="case-ordering">
              {ORDERINGS.map((o) => (
                <option key={o.value} value={o.value}>
                  {o.label}
                </option>
              ))}
            </select>
          </label>
        </form>

        {cases.isError && <ErrorNote error={cases.error} title="Cases could not be loaded" />}
        {cases.isPending && <p className="muted">Loading cases…</p>}
        {data && data.results.length === 0 && (
          <p className="empty" data-testid="case-list-empty">
            {params.search || params.state || params.verdict ? "No case matches these filters." : "No cases yet: create the first one above."}
          </p>
        )}
        {data && data.results.length > 0 && (
          <div className="table-wrap">
            <table className="table" data-testid="case-list" aria-busy={cases.isFetching}>
              <thead>
                <tr>
                  <th scope="col">Title</th>
                  <th scope="col">Latest verdict</th>
                  <th scope="col" className="num">
                    Media
                  </th>
                  <th scope="col" className="num">
                    Jobs
                  </th>
                  <th scope="col">Team</th>
                  <th scope="col">Updated</th>
                </tr>
              </thead>
              <tbody>
                {data.results.map((c) => (
                  <tr key={c.id} data-testid="case-row">
                    <td>
                      <Link to={`/cases/${c.id}`} className="strong">
                        {c.title}
                      </Link>
                      <TagList tags={c.tags} />
                    </td>
                    <td>
                      {c.latest_verdict?.job ? (
                        <Link to={`/jobs/${c.latest_verdict.job}`} aria-label={`Latest verdict of ${c.title}`}>
                          <VerdictBadge verdict={c.latest_verdict} />
                        </Link>
                      ) : (
                        <VerdictBadge verdict={c.latest_verdict} />
                      )}
                      <ReviewBadge status={c.latest_verdict?.review_status} label={c.latest_verdict?.review_label} testId="case-row-review" />
                    </td>
                    <td className="num">{c.media_count}</td>
                    <td className="num">{c.job_count}</td>
                    <td>{c.team?.name}</td>
                    <td>{formatDateTime(c.updated_at)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        {data && (data.next || data.previous) && (
          <nav className="pager" aria-label="Pages">
            <button
              type="button"
              className="button"
              disabled={!data.previous}
              onClick={() => update({ page: String(params.page - 1) })}
              data-testid="case-page-prev"
            >
              ← Previous
            </button>
            <span aria-live="polite">
              Page {params.page} · {data.count} cases
            </span>
            <button
              type="button"
              className="button"
              disabled={!data.next}
              onClick={() => update({ page: String(params.page + 1) })}
              data-testid="case-page-next"
            >
              Next →
            </button>
          </nav>
        )}
      </section>
    </div>
  );
}

function NewCaseForm() {
  const create = useCreateCase();
  const navigate = useNavigate();
  const [title, setTitle] = useState("");
  const [notes, setNotes] = useState("");
  const [tags, setTags] = useState("");
  // A double click submits twice before the disabled button is drawn: the second submit must see the first.
  const submitting = useRef(false);
  const count = titleCount(title);

  function submit(event: FormEvent) {
    event.preventDefault();
    if (submitting.current || count.over || !title.trim()) return;
    submitting.current = true;
    const tagList = tags
      .split(",")
      .map((t) => t.trim())
      .filter(Boolean);
    create.mutate(
      { title: title.trim(), notes: notes.trim(), tags: tagList },
      {
        onSuccess: (created) => navigate(`/cases/${created.id}`),
        onError: () => (submitting.current = false),
      },
    );
  }

  return (
    <details className="card new-case" data-testid="new-case">
      <summary data-testid="new-case-open">New case</summary>
      <form onSubmit={submit} className="form-grid">
        <label className="field">
          <span>Title</span>
          <input
            required
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            aria-invalid={count.over}
            aria-describedby="new-case-title-count"
            data-testid="new-case-title"
          />
          <span id="new-case-title-count" className={`small ${count.over ? "error-text" : "muted"}`} data-testid="new-case-title-count">
            {count.text}
          </span>
        </label>
        <label className="field">
          <span>Tags (comma-separated)</span>
          <input value={tags} onChange={(e) => setTags(e.target.value)} placeholder="election, press" data-testid="new-case-tags" />
        </label>
        <label className="field span-2">
          <span>Notes</span>
          <textarea rows={3} value={notes} onChange={(e) => setNotes(e.target.value)} data-testid="new-case-notes" />
        </label>
        {create.isError && (
          <div className="span-2">
            <ErrorNote error={create.error} title="The case was not created" />
          </div>
        )}
        <div className="span-2">
          <button type="submit" className="button primary" disabled={create.isPending || create.isSuccess || !title.trim() || count.over} data-testid="new-case-submit">
            {create.isPending ? "Creating…" : "Create case"}
          </button>
        </div>
      </form>
    </details>
  );
}
