import { useEffect, useId, useState, type FormEvent } from 'react';
import { errorText, type ServerInfo } from '../rest';
import { useChatState, useClient } from '../useChat';
import { MAX_NICK_LEN, validateNick } from '../validate';

type Mode = 'guest' | 'signin' | 'signup';

/**
 * modeFor is the form the sign-in screen starts with on a server that lets
 * people in as info says: the nickname where guests may chat (the quick
 * start), else the admin's sign-up on a new server, else the sign-in.
 */
function modeFor(info: ServerInfo): Mode {
  if (info.guests) return 'guest';
  return info.setup ? 'signup' : 'signin';
}

/**
 * SignIn is the way in: a nickname where guests may chat, signing in with an
 * account, and signing up where the server takes sign-ups (on a new server,
 * the first account, an admin's). It asks the server which of these it
 * takes, and never leaves someone without a way in.
 */
export function SignIn() {
  const state = useChatState();
  const client = useClient();
  const [chosen, setChosen] = useState<Mode | null>(null);
  const id = useId();

  useEffect(() => {
    void client.loadServerInfo();
  }, [client]);

  const info = state.server;
  let mode: Mode | null = info ? (chosen ?? modeFor(info)) : null;
  if (info && mode === 'guest' && !info.guests) mode = modeFor(info);
  if (info && mode === 'signup' && !info.signup) mode = 'signin';

  return (
    <main className="signin">
      <div className="card" aria-labelledby={`${id}-title`} role="group">
        <h1 id={`${id}-title`}>
          <span className="logo" aria-hidden="true" />
          Parley
        </h1>
        {state.signInNotice && (
          <p className="notice" role="status">
            {state.signInNotice}
          </p>
        )}
        {state.signInError && mode !== 'guest' && (
          <p className="notice error-notice" data-code={state.signInError.code}>
            {state.signInError.message}
          </p>
        )}
        {!info && !state.serverError && <p className="lede">Connecting…</p>}
        {!info && state.serverError && (
          <>
            <p className="error">{state.serverError}</p>
            <button type="button" onClick={() => void client.loadServerInfo()}>
              Try again
            </button>
          </>
        )}
        {info?.setup && mode !== 'signup' && (
          <div className="setup-note">
            <p>This is a new Parley server: it has no accounts yet. The first account made becomes its admin.</p>
            <button type="button" className="quiet" onClick={() => setChosen('signup')}>
              Create the admin account
            </button>
          </div>
        )}
        {mode === 'guest' && <GuestForm />}
        {mode === 'signin' && <AccountForm key="signin" signup={false} setup={false} />}
        {mode === 'signup' && <AccountForm key="signup" signup setup={!!info?.setup} />}
        {info && mode && <Switches info={info} mode={mode} choose={setChosen} />}
      </div>
    </main>
  );
}

/** Switches offers the other ways in that the server takes, and says how to get in where it takes none. */
function Switches({ info, mode, choose }: { info: ServerInfo; mode: Mode; choose: (m: Mode) => void }) {
  const closed = !info.guests && !info.signup;
  return (
    <div className="switches">
      {mode !== 'signin' && !info.setup && (
        <button type="button" className="link" onClick={() => choose('signin')}>
          Have an account? Sign in
        </button>
      )}
      {mode !== 'signup' && info.signup && !info.setup && (
        <button type="button" className="link" onClick={() => choose('signup')}>
          New here? Create an account
        </button>
      )}
      {mode !== 'guest' && info.guests && (
        <button type="button" className="link" onClick={() => choose('guest')}>
          Chat as a guest, with a nickname
        </button>
      )}
      {closed && (
        <p className="hint way-in">
          This server takes no sign-ups and no guests. To get in, ask an admin for an account. (Operators make one with{' '}
          <code>parley user add NAME</code>.)
        </p>
      )}
    </div>
  );
}

/** GuestForm asks for a nickname and shows the server's answer inline. */
function GuestForm() {
  const state = useChatState();
  const client = useClient();
  const [nick, setNick] = useState(state.lastNick);
  const [localError, setLocalError] = useState<string | null>(null);
  const [touched, setTouched] = useState(false);
  const id = useId();

  const busy = state.status === 'signing-in';
  const serverError = state.signInError && !touched ? state.signInError.message : null;
  const error = localError ?? serverError;

  function submit(e: FormEvent) {
    e.preventDefault();
    // Spaces around the name are a slip of the thumb, not part of it; the
    // ones inside stay as typed.
    const name = nick.trim();
    setNick(name);
    const problem = validateNick(name);
    setLocalError(problem);
    setTouched(false);
    if (problem) return;
    client.signIn(name);
  }

  return (
    <form className="signin-form" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="sr-only">
        Chat as a guest
      </h2>
      <p className="lede">Pick a nickname to start chatting. No account needed.</p>
      <label htmlFor={`${id}-nick`}>Nickname</label>
      <input
        id={`${id}-nick`}
        name="nickname"
        autoComplete="nickname"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
        value={nick}
        aria-invalid={error ? true : undefined}
        aria-describedby={`${id}-hint ${id}-error`}
        onChange={(e) => {
          setNick(e.target.value);
          setTouched(true);
          if (localError) setLocalError(validateNick(e.target.value.trim()));
        }}
      />
      <p id={`${id}-hint`} className="hint">
        1 to {MAX_NICK_LEN} characters; single spaces between words are fine.
      </p>
      <p id={`${id}-error`} className="error" role="alert" data-code={localError ? 'invalid_nick' : state.signInError?.code}>
        {error ?? ''}
      </p>
      <button type="submit" disabled={busy}>
        {busy ? 'Connecting…' : 'Enter chat'}
      </button>
    </form>
  );
}

/**
 * AccountForm signs in with an account, or signs up (name, display name,
 * password). A refusal shows the server's words; too many failed attempts
 * show how long to wait, and the button waits as long.
 */
function AccountForm({ signup, setup }: { signup: boolean; setup: boolean }) {
  const state = useChatState();
  const client = useClient();
  const [name, setName] = useState(signup ? '' : state.lastNick);
  const [displayName, setDisplayName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ code: string; text: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [waitUntil, setWaitUntil] = useState(0);
  const id = useId();

  // Too many attempts: the button comes back when the wait is over.
  useEffect(() => {
    if (!waitUntil) return;
    const t = setTimeout(() => setWaitUntil(0), Math.max(0, waitUntil - Date.now()));
    return () => clearTimeout(t);
  }, [waitUntil]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const n = name.trim();
    setName(n);
    if (!n || !password) {
      setError({ code: 'missing', text: signup ? 'Choose a name and a password.' : 'Enter your account name and password.' });
      return;
    }
    setBusy(true);
    setError(null);
    try {
      if (signup) await client.signUp(n, password, displayName.trim());
      else await client.signInAccount(n, password);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      const wait = (err as { retryAfter?: number | null }).retryAfter;
      if (wait) setWaitUntil(Date.now() + wait * 1000);
      setError({ code, text: errorText(err) });
      setBusy(false);
    }
  }

  const title = setup ? 'Create the admin account' : signup ? 'Create an account' : 'Sign in';
  return (
    <form className="signin-form" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      {setup && <p className="hint">This is a new server: this first account becomes its admin.</p>}
      <label htmlFor={`${id}-name`}>Account name</label>
      <input
        id={`${id}-name`}
        name="username"
        autoComplete="username"
        autoCapitalize="none"
        spellCheck={false}
        autoFocus
        value={name}
        aria-describedby={signup ? `${id}-name-hint` : undefined}
        onChange={(e) => setName(e.target.value)}
      />
      {signup && (
        <p id={`${id}-name-hint`} className="hint">
          1 to {MAX_NICK_LEN} characters; it is how others see you in rooms, and yours for good.
        </p>
      )}
      {signup && (
        <>
          <label htmlFor={`${id}-display`}>Display name (optional)</label>
          <input id={`${id}-display`} name="display-name" autoComplete="name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} />
        </>
      )}
      <label htmlFor={`${id}-password`}>Password</label>
      <input
        id={`${id}-password`}
        name="password"
        type="password"
        autoComplete={signup ? 'new-password' : 'current-password'}
        value={password}
        aria-invalid={error ? true : undefined}
        aria-describedby={[signup && `${id}-password-hint`, error && `${id}-error`].filter(Boolean).join(' ') || undefined}
        onChange={(e) => setPassword(e.target.value)}
      />
      {signup && (
        <p id={`${id}-password-hint`} className="hint">
          At least 8 characters.
        </p>
      )}
      {error && (
        <p id={`${id}-error`} className="error" role="alert" data-code={error.code}>
          {error.text}
        </p>
      )}
      <button type="submit" disabled={busy || waitUntil > 0}>
        {busy ? (signup ? 'Creating…' : 'Signing in…') : title}
      </button>
    </form>
  );
}
