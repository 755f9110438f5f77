import { useId, useState, type FormEvent } from 'react';
import { DEFAULT_ROOM } from '../connection';
import { useChatState, useClient } from '../useChat';
import { validateRoomName } from '../validate';

/** Sidebar lists the open rooms with their unread counts and joins new ones. */
export function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const state = useChatState();
  const client = useClient();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [known, setKnown] = useState<string[]>([]);
  const id = useId();

  function join(e: FormEvent) {
    e.preventDefault();
    // Spaces around the name (and a leading #) are not part of it.
    const room = name.trim().replace(/^#/, '').trimStart();
    const problem = validateRoomName(room);
    setError(problem);
    if (problem) return;
    client.openRoom(room);
    setName('');
    onNavigate();
  }

  function suggest() {
    client.listRooms().then(
      (rooms) => setKnown(rooms.map((r) => r.name).filter((n) => !state.rooms.some((r) => r.name === n))),
      () => setKnown([]),
    );
  }

  return (
    <nav className="sidebar" aria-labelledby={`${id}-rooms`}>
      <h2 id={`${id}-rooms`}>Rooms</h2>
      <ul className="room-list">
        {state.rooms.map((r) => {
          const current = r.name === state.current;
          return (
            <li key={r.name} className={current ? 'current' : undefined}>
              <button
                type="button"
                className="room-button"
                aria-current={current ? 'page' : undefined}
                onClick={() => {
                  client.selectRoom(r.name);
                  onNavigate();
                }}
              >
                <span className="hash" aria-hidden="true">
                  #
                </span>
                <span className="room-name" dir="auto">{r.name}</span>
                {r.unread > 0 && (
                  <span className="badge" data-testid="unread">
                    {r.unread}
                    <span className="sr-only"> unread</span>
                  </span>
                )}
              </button>
              {r.name !== DEFAULT_ROOM && (
                <button
                  type="button"
                  className="leave"
                  aria-label={`Leave ${r.name}`}
                  title={`Leave ${r.name}`}
                  onClick={() => client.leaveRoom(r.name)}
                >
                  ×
                </button>
              )}
            </li>
          );
        })}
      </ul>
      <form className="join-form" onSubmit={join} noValidate>
        <label htmlFor={`${id}-join`}>Join or create a room</label>
        <div className="row">
          <input
            id={`${id}-join`}
            list={`${id}-known`}
            placeholder="room name"
            value={name}
            autoComplete="off"
            aria-invalid={error ? true : undefined}
            aria-describedby={`${id}-join-error`}
            onFocus={suggest}
            onChange={(e) => {
              setName(e.target.value);
              if (error) setError(null);
            }}
          />
          <button type="submit">Join</button>
        </div>
        <datalist id={`${id}-known`}>
          {known.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
        <p id={`${id}-join-error`} className="error" role="alert">
          {error ?? ''}
        </p>
      </form>
    </nav>
  );
}
