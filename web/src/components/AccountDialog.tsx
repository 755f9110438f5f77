import { useCallback, useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { describeAgent, shortDate } from '../format';
import { errorText, type NewToken, type SessionInfo } from '../rest';
import { useChatState, useClient } from '../useChat';

/**
 * AccountDialog is the account screen, a modal dialog (the browser's
 * <dialog>: the page behind is inert, Escape closes it, focus stays inside):
 * the display name, the password, the sessions with their revoke buttons,
 * bearer tokens, and signing out. A guest sees only signing out, and what an
 * account would add.
 */
export function AccountDialog({ onClose }: { onClose: () => void }) {
  const state = useChatState();
  const client = useClient();
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);

  const title = state.kind === 'account' ? 'Your account' : 'You are a guest';
  return (
    <dialog ref={ref} className="account-dialog" aria-labelledby={`${id}-title`} onClose={onClose}>
      <div className="dialog-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <button type="button" className="quiet" onClick={onClose}>
          Close
        </button>
      </div>
      {state.kind === 'account' ? (
        <AccountSections />
      ) : (
        <section className="dialog-section">
          <p>
            Your nickname <strong dir="auto">{state.nick}</strong> is yours while your session lasts: until you sign out, or 30 days after your
            last visit.
          </p>
          <p className="hint">
            An account keeps its name for good, on every device, behind a password. To make one, sign out and choose “Create an account” on
            the sign-in page, where this server takes sign-ups.
          </p>
        </section>
      )}
      <div className="dialog-foot">
        <button type="button" onClick={() => client.signOut()}>
          Sign out
        </button>
      </div>
    </dialog>
  );
}

/** Section is one titled part of the account screen. */
function Section({ title, children }: { title: string; children: ReactNode }) {
  const id = useId();
  return (
    <section className="dialog-section" aria-labelledby={id}>
      <h3 id={id}>{title}</h3>
      {children}
    </section>
  );
}

/** Said is what came of a form: a sentence, good or bad. */
type Said = { ok: boolean; text: string } | null;

function Outcome({ said }: { said: Said }) {
  if (!said) return null;
  return said.ok ? (
    <p className="ok" role="status">
      {said.text}
    </p>
  ) : (
    <p className="error" role="alert">
      {said.text}
    </p>
  );
}

function AccountSections() {
  const state = useChatState();
  const client = useClient();
  const [sessions, setSessions] = useState<SessionInfo[] | null>(null);
  const [listError, setListError] = useState<string | null>(null);

  const reload = useCallback(() => {
    client.sessions().then(
      (list) => {
        setSessions(list);
        setListError(null);
      },
      (e: unknown) => setListError(errorText(e)),
    );
  }, [client]);
  useEffect(reload, [reload]);

  const a = state.account;
  return (
    <>
      <p className="account-summary">
        Signed in as <strong dir="auto">{state.nick}</strong>
        {a?.admin && <span className="tag">admin</span>}
        {a && <span className="hint"> · account made {shortDate(a.createdAt)}</span>}
      </p>
      <DisplayNameForm />
      <PasswordForm onChanged={reload} />
      <Section title="Sessions">
        <p className="hint">Where this account is signed in: browsers, and bearer tokens for bots and scripts.</p>
        {listError && (
          <p className="error" role="alert">
            {listError}
          </p>
        )}
        {sessions === null && !listError && <p className="hint">Loading…</p>}
        {sessions && <SessionList sessions={sessions} onRevoked={reload} />}
      </Section>
      <TokenForm onMade={reload} />
    </>
  );
}

function DisplayNameForm() {
  const state = useChatState();
  const client = useClient();
  const [value, setValue] = useState(state.account?.displayName ?? '');
  const [said, setSaid] = useState<Said>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  // The account's details arrive after the dialog opens, on a fresh page.
  const loaded = state.account?.displayName;
  useEffect(() => {
    if (loaded !== undefined) setValue(loaded);
  }, [loaded]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await client.setDisplayName(value.trim());
      setValue(value.trim());
      setSaid({ ok: true, text: 'Display name saved.' });
    } catch (err) {
      setSaid({ ok: false, text: errorText(err) });
    }
    setBusy(false);
  }

  return (
    <Section title="Profile">
      <form className="inline-form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-display`}>Display name</label>
        <div className="row">
          <input id={`${id}-display`} autoComplete="name" value={value} placeholder={state.nick ?? ''} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" disabled={busy}>
            Save
          </button>
        </div>
        <Outcome said={said} />
      </form>
    </Section>
  );
}

function PasswordForm({ onChanged }: { onChanged: () => void }) {
  const client = useClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [said, setSaid] = useState<Said>(null);
  const [busy, setBusy] = useState(false);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!current || !next) {
      setSaid({ ok: false, text: 'Enter your current password and a new one.' });
      return;
    }
    setBusy(true);
    try {
      await client.changePassword(current, next);
      setCurrent('');
      setNext('');
      setSaid({ ok: true, text: 'Password changed. Your other sessions were signed out; this browser stays signed in.' });
      onChanged();
    } catch (err) {
      setSaid({ ok: false, text: errorText(err) });
    }
    setBusy(false);
  }

  return (
    <Section title="Password">
      <form className="stack-form" onSubmit={submit} noValidate>
        {/* For password managers: whose password this is. */}
        <label htmlFor={`${id}-current`}>Current password</label>
        <input id={`${id}-current`} type="password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} />
        <label htmlFor={`${id}-new`}>New password</label>
        <input
          id={`${id}-new`}
          type="password"
          autoComplete="new-password"
          aria-describedby={`${id}-hint`}
          value={next}
          onChange={(e) => setNext(e.target.value)}
        />
        <p id={`${id}-hint`} className="hint">
          At least 8 characters. Changing it signs out every other session of this account.
        </p>
        <button type="submit" disabled={busy}>
          Change password
        </button>
        <Outcome said={said} />
      </form>
    </Section>
  );
}

function SessionList({ sessions, onRevoked }: { sessions: SessionInfo[]; onRevoked: () => void }) {
  const client = useClient();
  const [said, setSaid] = useState<Said>(null);

  async function revoke(s: SessionInfo, name: string) {
    try {
      await client.revokeSession(s.id);
      setSaid({ ok: true, text: `${name} was signed out.` });
    } catch (err) {
      setSaid({ ok: false, text: errorText(err) });
    }
    onRevoked();
  }

  return (
    <>
      <ul className="session-list">
        {sessions.map((s) => {
          const name = s.kind === 'token' ? `Token “${s.label || 'unnamed'}”` : describeAgent(s.label);
          return (
            <li key={s.id} data-current={s.current || undefined}>
              <div className="session-what">
                <strong title={s.kind === 'token' ? undefined : s.label} dir="auto">
                  {name}
                </strong>
                {s.current && <span className="tag">this device</span>}
                <span className="hint">
                  {s.kind === 'token' ? 'Bearer token' : 'Browser'} · since {shortDate(s.createdAt)} · expires {shortDate(s.expiresAt)}
                </span>
              </div>
              {!s.current && (
                <button type="button" className="quiet" aria-label={`Revoke ${name}`} onClick={() => void revoke(s, name)}>
                  Revoke
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <Outcome said={said} />
    </>
  );
}

/** The lives a new token may have: Go durations, as POST /api/tokens takes them. */
const tokenLives = [
  ['720h', '30 days'],
  ['2160h', '90 days'],
  ['8760h', '1 year'],
] as const;

function TokenForm({ onMade }: { onMade: () => void }) {
  const client = useClient();
  const [label, setLabel] = useState('');
  const [life, setLife] = useState<string>('2160h');
  const [made, setMade] = useState<NewToken | null>(null);
  const [said, setSaid] = useState<Said>(null);
  const [copied, setCopied] = useState(false);
  const [busy, setBusy] = useState(false);
  const tokenRef = useRef<HTMLInputElement>(null);
  const id = useId();

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (!label.trim()) {
      setSaid({ ok: false, text: 'Give the token a label, such as the name of the bot that will use it.' });
      return;
    }
    setBusy(true);
    try {
      setMade(await client.createToken(label.trim(), life));
      setCopied(false);
      setSaid(null);
      setLabel('');
      onMade();
    } catch (err) {
      setSaid({ ok: false, text: errorText(err) });
    }
    setBusy(false);
  }

  async function copy() {
    if (!made) return;
    try {
      await navigator.clipboard.writeText(made.token);
    } catch {
      // No clipboard API (a page served over plain HTTP): select it, for Ctrl+C.
      tokenRef.current?.select();
      if (!document.execCommand('copy')) return;
    }
    setCopied(true);
  }

  return (
    <Section title="Bearer tokens">
      <p className="hint">
        A bot or a script signs in with a token, sent as <code>Authorization: Bearer …</code> or in its hello. It acts as you until it expires
        or you revoke it above.
      </p>
      <form className="stack-form" onSubmit={submit} noValidate>
        <label htmlFor={`${id}-label`}>Token label</label>
        <input id={`${id}-label`} autoComplete="off" value={label} onChange={(e) => setLabel(e.target.value)} placeholder="weather bot" />
        <label htmlFor={`${id}-life`}>Expires after</label>
        <select id={`${id}-life`} value={life} onChange={(e) => setLife(e.target.value)}>
          {tokenLives.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
        <button type="submit" disabled={busy}>
          Create token
        </button>
        <Outcome said={said} />
      </form>
      {made && (
        <div className="new-token" role="group" aria-labelledby={`${id}-made`}>
          <p id={`${id}-made`}>
            <strong>Token “{made.session.label}” made.</strong> Copy it now: it is shown only this once, and anyone who has it can act as
            you.
          </p>
          <div className="row">
            <label htmlFor={`${id}-token`} className="sr-only">
              The new token
            </label>
            <input id={`${id}-token`} ref={tokenRef} readOnly value={made.token} onFocus={(e) => e.target.select()} spellCheck={false} />
            <button type="button" onClick={() => void copy()}>
              {copied ? 'Copied' : 'Copy'}
            </button>
          </div>
          <button type="button" className="quiet" onClick={() => setMade(null)}>
            Done: hide it
          </button>
        </div>
      )}
    </Section>
  );
}
