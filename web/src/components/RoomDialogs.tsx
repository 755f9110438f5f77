import { useEffect, useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { markBidiControls } from '../bidi';
import { errorText, type Room, type RoomChange, type RoomMember } from '../rest';
import type { RoomState } from '../connection';
import { roomPowers } from '../rooms';
import { useChatState, useClient } from '../useChat';

/** names splits "ana, bob carol" into account names. */
function names(text: string): string[] {
  return text
    .split(/[,\s]+/)
    .map((n) => n.trim())
    .filter(Boolean);
}

/** Modal is a dialog (the browser's <dialog>: the page behind is inert, Escape closes it, focus stays inside). */
function Modal({ title, onClose, children }: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const id = useId();
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
    return () => d?.close();
  }, []);
  return (
    <dialog ref={ref} className="account-dialog" aria-labelledby={`${id}-title`} onClose={onClose}>
      <div className="dialog-head">
        <h2 id={`${id}-title`}>{title}</h2>
        <button type="button" className="quiet" onClick={onClose}>
          Close
        </button>
      </div>
      {children}
    </dialog>
  );
}

/** MAX_DESCRIPTION is the longest description the server takes, in characters. */
const MAX_DESCRIPTION = 1000;

/** NewPrivateRoom makes a private room: a title, a topic, a description and its first members (accounts only). */
export function NewPrivateRoom({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const id = useId();
  const [title, setTitle] = useState('');
  const [topic, setTopic] = useState('');
  const [description, setDescription] = useState('');
  const [members, setMembers] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    try {
      await client.createPrivateRoom(title.trim(), topic.trim(), names(members), description.trim());
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="New private room" onClose={onClose}>
      <form className="dialog-section" onSubmit={submit}>
        <p className="hint">Only its members see a private room. You can add and remove people later.</p>
        <label htmlFor={`${id}-title`}>Title</label>
        <input id={`${id}-title`} dir="auto" value={title} required maxLength={64} onChange={(e) => setTitle(e.target.value)} />
        <label htmlFor={`${id}-topic`}>Topic (optional)</label>
        <input id={`${id}-topic`} dir="auto" value={topic} maxLength={256} onChange={(e) => setTopic(e.target.value)} />
        <label htmlFor={`${id}-description`}>Description (optional)</label>
        <textarea
          id={`${id}-description`}
          dir="auto"
          rows={3}
          value={description}
          maxLength={MAX_DESCRIPTION}
          onChange={(e) => setDescription(e.target.value)}
        />
        <label htmlFor={`${id}-members`}>Members (account names, separated by commas)</label>
        <input id={`${id}-members`} value={members} autoComplete="off" onChange={(e) => setMembers(e.target.value)} />
        <p className="error" role="alert">
          {error ?? ''}
        </p>
        <div className="row">
          <button type="submit" disabled={busy}>
            Create room
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** NewDirect opens the direct conversation with one or more accounts (accounts only). */
export function NewDirect({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const id = useId();
  const [to, setTo] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const people = names(to);
    if (!people.length) {
      setError('Name someone to write to.');
      return;
    }
    setBusy(true);
    try {
      await client.openDirect(people);
      onClose();
    } catch (err) {
      setError(errorText(err));
      setBusy(false);
    }
  }

  return (
    <Modal title="New message" onClose={onClose}>
      <form className="dialog-section" onSubmit={submit}>
        <label htmlFor={`${id}-to`}>To (account names, separated by commas)</label>
        <input id={`${id}-to`} value={to} autoComplete="off" onChange={(e) => setTo(e.target.value)} />
        <p className="error" role="alert">
          {error ?? ''}
        </p>
        <div className="row">
          <button type="submit" disabled={busy}>
            Open conversation
          </button>
        </div>
      </form>
    </Modal>
  );
}

/**
 * Directory lists the rooms this person may see, a page at a time, with
 * their topics; the search filters the pages loaded so far.
 */
export function Directory({ onClose }: { onClose: () => void }) {
  const client = useClient();
  const state = useChatState();
  const id = useId();
  const [rooms, setRooms] = useState<Room[]>([]);
  const [next, setNext] = useState<string | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const [query, setQuery] = useState('');

  async function load(after: string) {
    setLoading(true);
    try {
      const page = await client.browseRooms(after);
      setRooms((old) => (after ? old.concat(page.rooms) : page.rooms));
      setNext(page.next);
      setError(null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setLoading(false);
    }
  }

  useEffect(() => {
    void load('');
  }, []);

  const q = query.trim().toLowerCase();
  const shown = rooms.filter(
    (r) => !q || [r.name, r.title ?? '', r.topic ?? ''].some((s) => s.toLowerCase().includes(q)),
  );
  const isOpen = (name: string) => state.rooms.some((r) => r.name === name);

  return (
    <Modal title="Browse rooms" onClose={onClose}>
      <div className="dialog-section">
        <label htmlFor={`${id}-q`}>Search the rooms loaded</label>
        <input id={`${id}-q`} type="search" value={query} autoComplete="off" onChange={(e) => setQuery(e.target.value)} />
        <ul className="directory" aria-label="Rooms">
          {shown.map((r) => {
            const label = r.kind === 'private' ? r.title || 'Private room' : r.kind === 'direct' ? 'Direct conversation' : r.name;
            return (
              <li key={r.name}>
                <div className="directory-room">
                  <span className="room-name" dir="auto">
                    {r.kind === 'private' ? (
                      <>
                        <span className="sr-only">Private: </span>
                        <span aria-hidden="true">🔒 </span>
                      </>
                    ) : (
                      <span aria-hidden="true">#</span>
                    )}
                    {markBidiControls(label)}
                  </span>
                  {r.topic && (
                    <span className="topic" dir="auto">
                      {markBidiControls(r.topic)}
                    </span>
                  )}
                  {r.description && (
                    <span className="description" dir="auto">
                      {markBidiControls(r.description)}
                    </span>
                  )}
                  <span className="hint">
                    {r.archivedAt && 'Archived · '}
                    {r.online.toLocaleString()} online
                  </span>
                </div>
                <button
                  type="button"
                  aria-label={`${isOpen(r.name) ? 'Open' : 'Join'} ${label}`}
                  onClick={() => {
                    client.openRoom(r.name);
                    onClose();
                  }}
                >
                  {isOpen(r.name) ? 'Open' : 'Join'}
                </button>
              </li>
            );
          })}
        </ul>
        {!loading && shown.length === 0 && <p className="hint">No rooms{q ? ' match among those loaded' : ''}.</p>}
        <p className="error" role="alert">
          {error ?? ''}
        </p>
        {loading ? (
          <p className="hint">Loading rooms…</p>
        ) : (
          next && (
            <button type="button" className="quiet" onClick={() => void load(next)}>
              Load more rooms
            </button>
          )
        )}
      </div>
    </Modal>
  );
}

/**
 * Members lists who may see a private or direct room; a private room's
 * owner and admins add and remove people, and a member may leave.
 */
export function Members({ room, onClose }: { room: RoomState; onClose: () => void }) {
  const client = useClient();
  const state = useChatState();
  const id = useId();
  const [members, setMembers] = useState<RoomMember[] | null>(null);
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const manage = room.kind === 'private' && ((state.account?.admin ?? false) || room.owner === state.nick);

  useEffect(() => {
    client.loadMembers(room.name).then(setMembers, (err: unknown) => setError(errorText(err)));
  }, [client, room.name]);

  async function act(f: () => Promise<unknown>) {
    setError(null);
    try {
      await f();
      setMembers(await client.loadMembers(room.name));
    } catch (err) {
      setError(errorText(err));
    }
  }

  return (
    <Modal title={`Members of ${room.label}`} onClose={onClose}>
      <div className="dialog-section">
        <ul className="members" aria-label="Members">
          {(members ?? []).map((m) => (
            <li key={m.name}>
              <span dir="auto">{m.name}</span>
              {m.role === 'owner' && <span className="hint"> (owner)</span>}
              {manage && m.role !== 'owner' && m.name !== state.nick && (
                <button type="button" className="quiet" aria-label={`Remove ${m.name}`} onClick={() => void act(() => client.removeMember(room.name, m.name))}>
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
        {manage && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              const n = name.trim();
              if (!n) return;
              setName('');
              void act(() => client.addMember(room.name, n));
            }}
          >
            <label htmlFor={`${id}-add`}>Add a member (account name)</label>
            <div className="row">
              <input id={`${id}-add`} value={name} autoComplete="off" onChange={(e) => setName(e.target.value)} />
              <button type="submit">Add</button>
            </div>
          </form>
        )}
        <p className="error" role="alert">
          {error ?? ''}
        </p>
        {room.kind === 'private' && room.owner !== state.nick && (
          <button
            type="button"
            className="quiet"
            onClick={() => {
              const me = state.nick;
              if (me) void client.removeMember(room.name, me).then(onClose, (err: unknown) => setError(errorText(err)));
            }}
          >
            Leave this room
          </button>
        )}
      </div>
    </Modal>
  );
}

/**
 * RoomDetails shows a room's topic and description; whoever may change the
 * room (roomPowers) edits them there, and its owner or an admin archives,
 * brings back or deletes it (deleting asks first).
 */
export function RoomDetails({ room, onClose }: { room: RoomState; onClose: () => void }) {
  const client = useClient();
  const state = useChatState();
  const id = useId();
  const powers = roomPowers(room, state.nick, state.account?.admin ?? false);
  const [topic, setTopic] = useState(room.topic);
  const [description, setDescription] = useState(room.description);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  async function act(f: () => Promise<unknown>, close = false) {
    setError(null);
    setSaved(false);
    setBusy(true);
    try {
      await f();
      if (close) {
        onClose();
        return;
      }
    } catch (err) {
      setError(errorText(err));
    }
    setBusy(false);
  }

  return (
    <Modal title={`About ${room.label}`} onClose={onClose}>
      <div className="dialog-section">
        {room.archived && <p className="archived-note">This room is archived: read-only. It can be read, but takes no new messages.</p>}
        {powers.describe ? (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              // Only what changed is sent: a server without descriptions refuses the field.
              const change: RoomChange = {};
              if (topic.trim() !== room.topic) change.topic = topic.trim();
              if (description.trim() !== room.description) change.description = description.trim();
              void act(async () => {
                if (Object.keys(change).length > 0) await client.updateRoom(room.name, change);
                setSaved(true);
              });
            }}
          >
            <label htmlFor={`${id}-topic`}>Topic</label>
            <input id={`${id}-topic`} dir="auto" value={topic} maxLength={256} onChange={(e) => setTopic(e.target.value)} />
            <label htmlFor={`${id}-description`}>Description</label>
            <textarea
              id={`${id}-description`}
              dir="auto"
              rows={4}
              value={description}
              maxLength={MAX_DESCRIPTION}
              onChange={(e) => setDescription(e.target.value)}
            />
            <div className="row">
              <button type="submit" disabled={busy}>
                Save
              </button>
              <span className="hint" role="status">
                {saved ? 'Saved.' : ''}
              </span>
            </div>
          </form>
        ) : (
          <>
            <h3>Topic</h3>
            <p dir="auto">{room.topic ? markBidiControls(room.topic) : <span className="hint">No topic.</span>}</p>
            <h3>Description</h3>
            <p className="description" dir="auto">
              {room.description ? markBidiControls(room.description) : <span className="hint">No description.</span>}
            </p>
          </>
        )}
        <p className="error" role="alert">
          {error ?? ''}
        </p>
      </div>
      {(powers.archive || powers.delete) && (
        <div className="dialog-section">
          <h3>Manage</h3>
          {powers.archive && (
            <div className="row">
              <button type="button" disabled={busy} onClick={() => void act(() => client.updateRoom(room.name, { archived: !room.archived }))}>
                {room.archived ? 'Unarchive room' : 'Archive room'}
              </button>
              <span className="hint">{room.archived ? 'It takes messages again.' : 'It stays readable, but takes no new messages.'}</span>
            </div>
          )}
          {powers.delete &&
            (confirming ? (
              <div className="row" role="group" aria-label="Confirm deletion">
                <span>Delete this room and all its messages, for everyone?</span>
                <button type="button" className="quiet danger" disabled={busy} onClick={() => void act(() => client.deleteRoom(room.name), true)}>
                  Delete for everyone
                </button>
                <button type="button" className="quiet" onClick={() => setConfirming(false)}>
                  Keep
                </button>
              </div>
            ) : (
              <button type="button" className="quiet danger" onClick={() => setConfirming(true)}>
                Delete room…
              </button>
            ))}
        </div>
      )}
    </Modal>
  );
}
