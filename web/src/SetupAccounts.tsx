// Users & tokens (admins) and each user's own sessions (issue 19). A new user's (or a reset)
// TOTP enrolment is shown once as a QR code drawn by EGO (api/qr.py), a new token's secret
// once; neither can be fetched again.

import { useEffect, useState } from "preact/hooks";
import { deleteJSON, getJSON, postJSON } from "./api";
import { ago } from "./format";
import { st } from "./setupText";

const ROLES = ["viewer", "operator", "admin"];
const SCOPES = ["read", "operate"];

interface User {
  name: string;
  role: string;
  disabled: boolean;
  created: number;
}
interface Token {
  id: number;
  name: string;
  prefix: string;
  scope: string;
  user: string | null;
  created: number;
  expires: number | null;
  last_used: number | null;
  revoked: number | null;
}
interface Enrolment {
  name: string;
  totp_uri: string;
  totp_qr: string; // SVG from EGO
}
interface Session {
  id: string;
  created: number;
  last_seen: number;
  expires: number;
  address: string | null;
  user_agent: string | null;
  current: boolean;
}

function when(ts: number | null, now: number): string {
  return ts == null ? st("never") : `${ago(ts, now)}`;
}

function EnrolmentCard({ enrolment, onDone }: { enrolment: Enrolment; onDone: () => void }) {
  return (
    <div class="panel enrolment" data-user={enrolment.name}>
      <p>
        <b>{st("enrol", { name: enrolment.name })}</b>
      </p>
      {/* EGO's own SVG (segno), not user input */}
      <div class="qr" dangerouslySetInnerHTML={{ __html: enrolment.totp_qr }} />
      <code class="uri">{enrolment.totp_uri}</code>
      <div class="toolbar">
        <button id="enrolment-done" onClick={onDone}>
          {st("done")}
        </button>
      </div>
    </div>
  );
}

function Users({ me, users, reload, setError }: { me: string; users: User[]; reload: () => void; setError: (e: string | null) => void }) {
  const [form, setForm] = useState({ name: "", role: "viewer", password: "" });
  const [enrolment, setEnrolment] = useState<Enrolment | null>(null);
  const now = Date.now() / 1000;
  const failed = (exc: Error) => setError(exc.message);
  const change = (name: string, body: Record<string, unknown>) =>
    postJSON(`/api/admin/users/${encodeURIComponent(name)}`, body, "PATCH").then(reload, failed);
  const create = (event: Event) => {
    event.preventDefault();
    setError(null);
    postJSON<Enrolment>("/api/admin/users", form).then((made) => {
      setEnrolment(made);
      setForm({ name: "", role: "viewer", password: "" });
      reload();
    }, failed);
  };
  const reset = (name: string) => {
    if (!confirm(st("confirmResetTotp", { name }))) return;
    postJSON<Enrolment>(`/api/admin/users/${encodeURIComponent(name)}/totp`).then(setEnrolment, failed);
  };
  const remove = (name: string) => {
    if (!confirm(st("confirmDelete", { name }))) return;
    deleteJSON(`/api/admin/users/${encodeURIComponent(name)}`).then(reload, failed);
  };
  return (
    <section class="panel users">
      <h3>{st("users")}</h3>
      {enrolment && <EnrolmentCard enrolment={enrolment} onDone={() => setEnrolment(null)} />}
      <div class="scroll-x">
        <table class="small user-list">
          <thead>
            <tr>
              <th>{st("name")}</th>
              <th>{st("role")}</th>
              <th class="wide">{st("created")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {users.map((u) => (
              <tr key={u.name} data-user={u.name} class={u.disabled ? "muted" : ""}>
                <td>
                  <b>{u.name}</b> {u.disabled && <small>{st("disabled")}</small>}
                </td>
                <td>
                  <select name="role" value={u.role} onChange={(e) => change(u.name, { role: e.currentTarget.value })}>
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </td>
                <td class="wide">{ago(u.created, now)}</td>
                <td class="actions">
                  <button class="ghost toggle-user" onClick={() => change(u.name, { disabled: !u.disabled })} disabled={u.name === me}>
                    {u.disabled ? st("enable") : st("disable")}
                  </button>
                  <button class="ghost reset-totp" onClick={() => reset(u.name)}>
                    {st("resetTotp")}
                  </button>
                  <button class="ghost delete-user" onClick={() => remove(u.name)} disabled={u.name === me}>
                    {st("delete")}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="toolbar new-user" onSubmit={create}>
        <b>{st("newUser")}</b>
        <input name="new-name" placeholder={st("name")} value={form.name} autocomplete="off" onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
        <select name="new-role" value={form.role} onChange={(e) => setForm({ ...form, role: e.currentTarget.value })}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
        <input
          name="new-password"
          type="password"
          autocomplete="new-password"
          placeholder={st("password")}
          value={form.password}
          onInput={(e) => setForm({ ...form, password: e.currentTarget.value })}
        />
        <button type="submit" id="create-user">
          {st("createUser")}
        </button>
      </form>
    </section>
  );
}

function Tokens({ users, tokens, reload, setError }: { users: User[]; tokens: Token[]; reload: () => void; setError: (e: string | null) => void }) {
  const [form, setForm] = useState({ name: "", scope: "read", user: "", days: "" });
  const [secret, setSecret] = useState<string | null>(null);
  const now = Date.now() / 1000;
  const failed = (exc: Error) => setError(exc.message);
  const create = (event: Event) => {
    event.preventDefault();
    setError(null);
    const days = Number(form.days);
    const body = {
      name: form.name,
      scope: form.scope,
      user: form.user || null,
      expires_in_s: form.days.trim() && Number.isFinite(days) ? days * 86400 : null,
    };
    postJSON<{ secret: string }>("/api/admin/tokens", body).then((made) => {
      setSecret(made.secret);
      setForm({ name: "", scope: "read", user: "", days: "" });
      reload();
    }, failed);
  };
  const revoke = (id: number) => deleteJSON(`/api/admin/tokens/${id}`).then(reload, failed);
  return (
    <section class="panel tokens">
      <h3>{st("tokens")}</h3>
      {secret && (
        <div class="panel enrolment token-secret">
          <p>
            <b>{st("tokenSecret")}</b>
          </p>
          <code class="uri" id="token-secret">
            {secret}
          </code>
          <div class="toolbar">
            <button onClick={() => setSecret(null)}>{st("done")}</button>
          </div>
        </div>
      )}
      <div class="scroll-x">
        <table class="small token-list">
          <thead>
            <tr>
              <th>{st("name")}</th>
              <th>{st("scope")}</th>
              <th>{st("forUser")}</th>
              <th>{st("expires")}</th>
              <th>{st("lastUsed")}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {tokens.map((tok) => (
              <tr key={tok.id} data-token={tok.name} class={tok.revoked ? "muted" : ""}>
                <td>
                  <b>{tok.name}</b> <small>{tok.prefix}…</small>
                </td>
                <td>{tok.scope}</td>
                <td>{tok.user ?? "–"}</td>
                <td title={tok.expires ? new Date(tok.expires * 1000).toLocaleString() : ""}>
                  {tok.expires ? new Date(tok.expires * 1000).toLocaleDateString() : st("noExpiry")}
                </td>
                <td class="last-used">{when(tok.last_used, now)}</td>
                <td>
                  {tok.revoked ? (
                    <small>{st("revoked")}</small>
                  ) : (
                    <button class="ghost revoke-token" onClick={() => revoke(tok.id)}>
                      {st("revoke")}
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form class="toolbar new-token" onSubmit={create}>
        <b>{st("newToken")}</b>
        <input name="token-name" placeholder={st("tokenName")} value={form.name} autocomplete="off" onInput={(e) => setForm({ ...form, name: e.currentTarget.value })} />
        <select name="token-scope" value={form.scope} onChange={(e) => setForm({ ...form, scope: e.currentTarget.value })}>
          {SCOPES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <select name="token-user" value={form.user} onChange={(e) => setForm({ ...form, user: e.currentTarget.value })}>
          <option value="">{st("noUser")}</option>
          {users.map((u) => (
            <option key={u.name} value={u.name}>
              {u.name}
            </option>
          ))}
        </select>
        <input name="token-days" size={6} inputMode="numeric" placeholder={st("expiresDays")} value={form.days} onInput={(e) => setForm({ ...form, days: e.currentTarget.value })} />
        <button type="submit" id="create-token">
          {st("createToken")}
        </button>
      </form>
    </section>
  );
}

export function UsersTab({ me }: { me: string }) {
  const [users, setUsers] = useState<User[]>([]);
  const [tokens, setTokens] = useState<Token[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    getJSON<User[]>("/api/admin/users").then(setUsers, (exc: Error) => setError(exc.message));
    getJSON<Token[]>("/api/admin/tokens").then(setTokens, (exc: Error) => setError(exc.message));
  }, [reloads]);
  const reload = () => setReloads((n) => n + 1);
  return (
    <div class="setup-accounts">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <Users me={me} users={users} reload={reload} setError={setError} />
      <Tokens users={users} tokens={tokens} reload={reload} setError={setError} />
    </div>
  );
}

export function SessionsTab() {
  const [sessions, setSessions] = useState<Session[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reloads, setReloads] = useState(0);
  useEffect(() => {
    getJSON<Session[]>("/api/auth/sessions").then(setSessions, (exc: Error) => setError(exc.message));
  }, [reloads]);
  const end = (session: Session) =>
    deleteJSON(`/api/auth/sessions/${session.id}`).then(
      () => (session.current ? location.reload() : setReloads((n) => n + 1)),
      (exc: Error) => setError(exc.message),
    );
  const now = Date.now() / 1000;
  return (
    <section class="panel sessions">
      <h3>{st("sessions")}</h3>
      <p class="muted">{st("sessionsHint")}</p>
      {error && <p class="error">{error}</p>}
      {sessions === null && !error && <p class="muted">{st("loading")}</p>}
      {sessions && (
        <div class="scroll-x">
          <table class="small session-list">
            <thead>
              <tr>
                <th>{st("from")}</th>
                <th>{st("started")}</th>
                <th>{st("lastActive")}</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {sessions.map((s) => (
                <tr key={s.id} data-session={s.id} data-current={s.current ? "true" : "false"}>
                  <td class="agent">
                    {s.address ?? "–"} {s.current && <span class="badge ok">{st("thisSession")}</span>}
                    <small>{s.user_agent}</small>
                  </td>
                  <td>{ago(s.created, now)}</td>
                  <td>{ago(s.last_seen, now)}</td>
                  <td>
                    <button class="ghost end-session" onClick={() => end(s)}>
                      {st("endSession")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
