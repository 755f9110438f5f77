import { useId, useState, type FormEvent } from 'react';
import { useChatState, useClient } from '../useChat';
import { MAX_NICK_LEN, validateNick } from '../validate';

/** SignIn asks for a nickname and shows the server's answer inline. */
export function SignIn() {
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
    <main className="signin">
      <form className="card" onSubmit={submit} noValidate aria-labelledby={`${id}-title`}>
        <h1 id={`${id}-title`}>
          <span className="logo" aria-hidden="true" />
          Parley
        </h1>
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
    </main>
  );
}
