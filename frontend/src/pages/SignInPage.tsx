import { useEffect, useState, type FormEvent } from "react";
import { ensureCsrfToken } from "../api/client";
import { useSignIn } from "../api/queries";
import { ThemeToggle } from "../components/ThemeToggle";

export function SignInPage() {
  const signIn = useSignIn();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");

  useEffect(() => {
    // Fetch the CSRF cookie early so the first POST does not wait for it.
    ensureCsrfToken().catch(() => undefined);
  }, []);

  function submit(event: FormEvent) {
    event.preventDefault();
    signIn.mutate({ username, password });
  }

  return (
    <main className="signin" id="main">
      <div className="signin-theme">
        <ThemeToggle />
      </div>
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">Video forensics: cases, analyses and verdicts for your team.</p>
        <label className="field">
          <span>Username</span>
          <input
            name="username"
            autoComplete="username"
            required
            autoFocus
            value={username}
            onChange={(e) => setUsername(e.target.value)}
            data-testid="signin-username"
          />
        </label>
        <label className="field">
          <span>Password</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
            data-testid="signin-password"
          />
        </label>
        {signIn.isError && (
          <div className="note error" role="alert" data-testid="signin-error">
            {signIn.error.message}
          </div>
        )}
        <button type="submit" className="button primary" disabled={signIn.isPending} data-testid="signin-submit">
          {signIn.isPending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
