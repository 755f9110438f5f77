import { useId, useState, type FormEvent } from 'react';
import { markBidiControls } from '../bidi';
import { DEFAULT_ROOM, type RoomState } from '../connection';
import { useChatState, useClient } from '../useChat';
import { validateRoomName } from '../validate';
import { Directory, NewDirect, NewPrivateRoom } from './RoomDialogs';

type Dialog = 'private' | 'direct' | 'directory' | null;

/**
 * Sidebar lists the open rooms (public, and private with a lock) and the
 * direct conversations with their unread counts, joins rooms by name or
 * from the directory, and, for accounts, makes private rooms and direct
 * conversations.
 */
export function Sidebar({ onNavigate }: { onNavigate: () => void }) {
  const state = useChatState();
  const client = useClient();
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [known, setKnown] = useState<string[]>([]);
  const id = useId();
  const [dialog, setDialog] = useState<Dialog>(null);
  const account = state.kind === 'account';
  const rooms = state.rooms.filter((r) => r.kind !== 'direct');
  const directs = state.rooms.filter((r) => r.kind === 'direct');

  function item(r: RoomState) {
    const current = r.name === state.current;
    return (
      <li key={r.name} className={current ? 'current' : undefined}>
        <button
          type="button"
          className="room-button"
          aria-current={current ? 'page' : undefined}
          data-room={r.name}
          onClick={() => {
            client.selectRoom(r.name);
            onNavigate();
          }}
        >
          {r.kind === 'private' && <span className="sr-only">Private: </span>}
          <span className="hash" aria-hidden="true">
            {r.kind === 'private' ? '🔒' : r.kind === 'direct' ? '@' : '#'}
          </span>
          <span className="room-name" dir="auto">
            {markBidiControls(r.label)}
          </span>
          {r.unread > 0 && (
            <span className="badge" data-testid="unread">
              {r.unread}
              <span className="sr-only"> unread</span>
            </span>
          )}
        </button>
        {r.kind === 'public' && r.name !== DEFAULT_ROOM && (
          <button type="button" className="leave" aria-label={`Leave ${r.name}`} title={`Leave ${r.name}`} onClick={() => client.leaveRoom(r.name)}>
            ×
          </button>
        )}
      </li>
    );
  }

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

  function close() {
    setDialog(null);
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
      <ul className="room-list">{rooms.map(item)}</ul>
      <div className="side-actions">
        <button type="button" className="quiet" onClick={() => setDialog('directory')}>
          Browse rooms
        </button>
        {account && (
          <button type="button" className="quiet" onClick={() => setDialog('private')}>
            New private room
          </button>
        )}
      </div>
      {(account || directs.length > 0) && (
        <>
          <h2 id={`${id}-direct`}>Direct messages</h2>
          <ul className="room-list" aria-labelledby={`${id}-direct`}>
            {directs.map(item)}
          </ul>
          {account && (
            <div className="side-actions">
              <button type="button" className="quiet" onClick={() => setDialog('direct')}>
                New message
              </button>
            </div>
          )}
        </>
      )}
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
      {dialog === 'private' && <NewPrivateRoom onClose={close} />}
      {dialog === 'direct' && <NewDirect onClose={close} />}
      {dialog === 'directory' && <Directory onClose={close} />}
    </nav>
  );
}
