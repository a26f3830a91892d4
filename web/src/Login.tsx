import { useState } from "preact/hooks";
import { HttpError, postJSON } from "./api";
import { t } from "./i18n";
import type { Me } from "./types";

export function Login({ onLogin, notice }: { onLogin: (me: Me) => void; notice: string | null }) {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(notice);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLogin(await postJSON<Me>("/api/auth/login", { name, password, code }));
    } catch (exc) {
      setError(exc instanceof HttpError ? exc.message : String(exc));
      setCode("");
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <form class="panel" onSubmit={submit}>
        <h1>
          <span class="mark" aria-hidden="true" />
          {t("appTitle")}
          <small>거울단계</small>
        </h1>
        <label>
          {t("user")}
          <input name="name" autocomplete="username" required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          {t("password")}
          <input
            name="password"
            type="password"
            autocomplete="current-password"
            required
            value={password}
            onInput={(e) => setPassword(e.currentTarget.value)}
          />
        </label>
        <label>
          {t("code")} <small>{t("codeHint")}</small>
          <input
            name="code"
            inputMode="numeric"
            autocomplete="one-time-code"
            pattern="[0-9 ]{6,7}"
            maxLength={7}
            required
            value={code}
            onInput={(e) => setCode(e.currentTarget.value)}
          />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? t("signingIn") : t("signIn")}
        </button>
      </form>
    </main>
  );
}
