import { Link, Navigate, Route, Routes, useLocation } from "react-router-dom";
import { useMe, useSignOut } from "./api/queries";
import { ThemeToggle } from "./components/ThemeToggle";
import { CaseListPage } from "./pages/CaseListPage";
import { CasePage } from "./pages/CasePage";
import { JobPage } from "./pages/JobPage";
import { SignInPage } from "./pages/SignInPage";
import { WebhooksPage } from "./pages/WebhooksPage";
import { ErrorNote } from "./components/ErrorNote";

export function App() {
  const me = useMe();
  const location = useLocation();

  if (me.isPending) return <p className="page-loading">Loading…</p>;
  if (me.isError) {
    return (
      <main className="page narrow">
        <ErrorNote error={me.error} title="The server could not be reached" />
      </main>
    );
  }

  if (!me.data) {
    return (
      <Routes>
        <Route path="/signin" element={<SignInPage />} />
        <Route path="*" element={<Navigate to="/signin" replace state={{ from: location.pathname + location.search }} />} />
      </Routes>
    );
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <Header
        username={me.data.username}
        teams={me.data.teams.map((t) => t.name)}
        isAdmin={me.data.teams.some((t) => t.role === "admin")}
      />
      <main id="main" className="page" tabIndex={-1}>
        <Routes>
          <Route path="/" element={<CaseListPage />} />
          <Route path="/cases/:caseId" element={<CasePage />} />
          <Route path="/jobs/:jobId" element={<JobPage />} />
          <Route path="/webhooks" element={<WebhooksPage />} />
          <Route path="/signin" element={<Navigate to={(location.state as { from?: string } | null)?.from ?? "/"} replace />} />
          <Route path="*" element={<NotFound />} />
        </Routes>
      </main>
    </>
  );
}

function Header({ username, teams, isAdmin }: { username: string; teams: string[]; isAdmin: boolean }) {
  const signOut = useSignOut();
  return (
    <header className="app-header">
      <Link to="/" className="brand">
        Forensics
      </Link>
      <nav aria-label="Main">
        <Link to="/">Cases</Link>
        {isAdmin && (
          <Link to="/webhooks" data-testid="nav-webhooks">
            Webhooks
          </Link>
        )}
      </nav>
      <div className="header-tools">
        <span className="who" data-testid="current-user">
          {username}
          {teams.length > 0 && <span className="muted"> · {teams.join(", ")}</span>}
        </span>
        <ThemeToggle />
        <button type="button" className="button ghost" onClick={() => signOut.mutate()} disabled={signOut.isPending}>
          Sign out
        </button>
      </div>
    </header>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        <Link to="/">Back to cases</Link>
      </p>
    </section>
  );
}
