import { useCallback, useLayoutEffect, useMemo, useRef, useState, type CSSProperties } from 'react';
import type { Outgoing, RoomState } from '../connection';
import type { Entry } from '../protocol';
import { dayKey, dayLabel, fullDate, shortTime } from '../format';
import { useChatState, useClient } from '../useChat';
import { canDelete, canEdit, type Powers } from '../rooms';
import { MessageText } from './MessageText';
import { markBidiControls } from '../bidi';

/** Messages from one person closer together than this are shown as one group. */
const GROUP_WITHIN = 5 * 60 * 1000;
/** Older history loads when the view is this close to its top. */
const LOAD_OLDER_AT = 300;
/** The view follows new messages while it is this close to its bottom. */
const STICK_WITHIN = 80;

type Item =
  | { kind: 'day'; key: string; label: string }
  | { kind: 'message'; key: string; entry: Entry; own: boolean; cont: boolean }
  | { kind: 'activity'; key: string; entry: Entry }
  | { kind: 'outgoing'; key: string; o: Outgoing; cont: boolean };

function buildItems(entries: readonly Entry[], outgoing: readonly Outgoing[], me: string | null): Item[] {
  const items: Item[] = [];
  let day = '';
  let prevFrom: string | null = null;
  let prevAt = 0;
  const addDay = (at: string | number) => {
    const k = dayKey(at);
    if (k !== day) {
      day = k;
      items.push({ kind: 'day', key: `day-${k}`, label: dayLabel(at) });
      prevFrom = null;
    }
  };
  for (const e of entries) {
    addDay(e.at);
    const t = Date.parse(e.at);
    if (e.type === 'message') {
      const cont = prevFrom === e.from && t - prevAt < GROUP_WITHIN;
      items.push({ kind: 'message', key: `s${e.seq}`, entry: e, own: e.from === me, cont });
      prevFrom = e.from;
      prevAt = t;
    } else {
      items.push({ kind: 'activity', key: `s${e.seq}`, entry: e });
      prevFrom = null;
    }
  }
  for (const o of outgoing) {
    addDay(o.createdAt);
    const cont = prevFrom === me && o.createdAt - prevAt < GROUP_WITHIN;
    items.push({ kind: 'outgoing', key: `c${o.clientId}`, o, cont });
    prevFrom = me;
    prevAt = o.createdAt;
  }
  return items;
}

function Time({ at, className }: { at: string | number; className?: string }) {
  const iso = typeof at === 'number' ? new Date(at).toISOString() : at;
  return (
    <time className={className} dateTime={iso} title={fullDate(at)}>
      {shortTime(at)}
    </time>
  );
}

/** Avatar is a circle with the first letter of a nickname, in a colour of its own. */
function Avatar({ nick }: { nick: string }) {
  let h = 0;
  for (const c of nick) h = (h * 31 + (c.codePointAt(0) ?? 0)) % 360;
  const initial = [...nick][0]?.toUpperCase() ?? '?';
  return (
    <span className="avatar" aria-hidden="true" style={{ '--hue': h } as CSSProperties}>
      {initial}
    </span>
  );
}

/** MessageList shows a room's log, keeps the view steady as older pages load, and follows new messages. */
export function MessageList({ room }: { room: RoomState }) {
  const client = useClient();
  const { nick, status, account } = useChatState();
  const powers: Powers = { admin: account?.admin ?? false, owner: room.kind === 'private' && room.owner !== '' && room.owner === nick };
  const scroller = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);
  const before = useRef<{ height: number; top: number; first: number | null; count: number }>({
    height: 0,
    top: 0,
    first: null,
    count: 0,
  });
  const [newBelow, setNewBelow] = useState(false);

  const items = useMemo(() => buildItems(room.entries, room.outgoing, nick), [room.entries, room.outgoing, nick]);
  const first = room.entries[0]?.seq ?? null;
  const count = room.entries.length + room.outgoing.length;

  const loadOlderIfNear = useCallback(() => {
    const el = scroller.current;
    // After a failure, only the button tries again: no retry loop while offline.
    if (!el || !room.hasOlder || room.loadingOlder || room.error) return;
    if (el.scrollTop < LOAD_OLDER_AT || el.scrollHeight <= el.clientHeight) void client.loadOlder(room.name);
  }, [client, room.hasOlder, room.loadingOlder, room.error, room.name]);

  const remember = () => {
    const el = scroller.current;
    if (!el) return;
    before.current = { height: el.scrollHeight, top: el.scrollTop, first, count };
  };

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    const prev = before.current;
    const lastOutgoing = room.outgoing[room.outgoing.length - 1];
    const sentJustNow = lastOutgoing !== undefined && count > prev.count && lastOutgoing.status === 'sending';
    // The browser reports a scroll only with the next frame. A view moved up
    // since it was last seen, away from the bottom of what it showed, was
    // moved by the person: what arrived before the report must not pull it
    // back down. (Content that shrank moves the view up too, but not away.)
    const away = Math.min(prev.height, el.scrollHeight) - el.scrollTop - el.clientHeight >= STICK_WITHIN;
    if (el.scrollTop < prev.top && away) atBottom.current = false;
    if (prev.first !== null && first !== null && first < prev.first) {
      // Older entries came in above: keep what the person was reading in place.
      el.scrollTop = prev.top + (el.scrollHeight - prev.height);
    } else if (atBottom.current || sentJustNow) {
      el.scrollTop = el.scrollHeight;
      atBottom.current = true;
      setNewBelow(false);
    } else if (count > prev.count) {
      setNewBelow(true);
    }
    before.current = { height: el.scrollHeight, top: el.scrollTop, first, count };
    loadOlderIfNear();
  });

  function onScroll() {
    const el = scroller.current;
    if (!el) return;
    atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < STICK_WITHIN;
    if (atBottom.current && newBelow) setNewBelow(false);
    remember();
    loadOlderIfNear();
  }

  function jumpToNewest() {
    const el = scroller.current;
    if (!el) return;
    el.scrollTop = el.scrollHeight;
    atBottom.current = true;
    setNewBelow(false);
  }

  const offline = status !== 'online';

  return (
    <div className="messages-wrap">
      <div className="messages" ref={scroller} onScroll={onScroll} tabIndex={0} aria-label={`Messages in ${room.kind === 'public' ? '#' : ''}${room.label}`} role="region">
        <div className="history-edge">
          {room.loadingOlder || room.loading ? (
            <span>Loading messages…</span>
          ) : room.hasOlder ? (
            <button type="button" className="quiet" onClick={() => void client.loadOlder(room.name)}>
              Load older messages
            </button>
          ) : (
            <span>
              This is the beginning of {room.kind === 'public' ? '#' : ''}
              {markBidiControls(room.label)}.
            </span>
          )}
          {room.error && <span className="error"> {room.error}</span>}
        </div>
        <ol className="log">
          {items.map((it) => {
            switch (it.kind) {
              case 'day':
                return (
                  <li key={it.key} className="day">
                    <span>{it.label}</span>
                  </li>
                );
              case 'activity':
                return (
                  <li key={it.key} className="activity" data-seq={it.entry.seq}>
                    <span>
                      <span className="nick" dir="auto">{it.entry.from}</span> {it.entry.type === 'join' ? 'joined' : 'left'}
                    </span>{' '}
                    <Time at={it.entry.at} />
                  </li>
                );
              case 'message':
                return (
                  <li
                    key={it.key}
                    className={`msg${it.cont ? ' cont' : ''}${it.own ? ' own' : ''}`}
                    data-seq={it.entry.seq}
                    data-from={it.entry.from}
                    data-status={it.own ? 'sent' : undefined}
                  >
                    {it.cont ? (
                      <Time at={it.entry.at} className="gutter-time" />
                    ) : (
                      <div className="meta">
                        <Avatar nick={it.entry.from} />
                        <span className="author" dir="auto">{it.entry.from}</span> <Time at={it.entry.at} />
                      </div>
                    )}
                    <MessageBody entry={it.entry} room={room} me={nick} powers={powers} />
                    {it.own && (
                      <span className="status sent" title="Sent">
                        <span aria-hidden="true">✓</span>
                        <span className="sr-only">Sent</span>
                      </span>
                    )}
                  </li>
                );
              case 'outgoing':
                return (
                  <li
                    key={it.key}
                    className={`msg own pending${it.cont ? ' cont' : ''}`}
                    data-status={it.o.status}
                    data-client-id={it.o.clientId}
                    data-from={nick ?? undefined}
                  >
                    {it.cont ? (
                      <Time at={it.o.createdAt} className="gutter-time" />
                    ) : (
                      <div className="meta">
                        <Avatar nick={nick ?? ''} />
                        <span className="author" dir="auto">{nick}</span> <Time at={it.o.createdAt} />
                      </div>
                    )}
                    <MessageText text={it.o.text} />
                    <OutgoingStatus o={it.o} offline={offline} />
                  </li>
                );
            }
          })}
        </ol>
      </div>
      {newBelow && (
        <button type="button" className="jump" onClick={jumpToNewest}>
          New messages ↓
        </button>
      )}
    </div>
  );
}

/**
 * MessageBody is a message's text as it stands, marked "edited", or its
 * tombstone, with the person's pending change of it, and the edit and
 * delete buttons of what they may change. Editing happens in place: Enter
 * saves, Escape cancels.
 */
function MessageBody({ entry, room, me, powers }: { entry: Entry; room: RoomState; me: string | null; powers: Powers }) {
  const client = useClient();
  const [editing, setEditing] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const pending = room.changes.filter((c) => c.target === entry.seq);
  const del = pending.find((c) => c.op === 'delete');
  const edit = pending.filter((c) => c.op === 'edit').at(-1);
  if (entry.deleted) {
    return (
      <p className="text tombstone" data-testid="tombstone">
        <em>message deleted</em>
      </p>
    );
  }
  const mayEdit = !room.archived && canEdit(entry, me);
  const mayDelete = !room.archived && canDelete(entry, me, powers);
  const failed = pending.find((c) => c.status === 'failed');
  const shown = edit && edit.status !== 'failed' ? edit.text : (entry.text ?? '');

  if (editing !== null) {
    const save = () => {
      const text = editing.trim();
      if (text && text !== entry.text) client.edit(room.name, entry.seq, text);
      setEditing(null);
    };
    return (
      <form
        className="edit-form"
        onSubmit={(e) => {
          e.preventDefault();
          save();
        }}
      >
        <label className="sr-only" htmlFor={`edit-${entry.seq}`}>
          Edit message
        </label>
        <textarea
          id={`edit-${entry.seq}`}
          dir="auto"
          rows={Math.min(6, editing.split('\n').length)}
          value={editing}
          autoFocus
          onChange={(e) => setEditing(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'Enter' && !e.shiftKey) {
              e.preventDefault();
              save();
            } else if (e.key === 'Escape') {
              e.preventDefault();
              setEditing(null);
            }
          }}
        />
        <div className="row">
          <button type="submit">Save</button>
          <button type="button" className="quiet" onClick={() => setEditing(null)}>
            Cancel
          </button>
        </div>
      </form>
    );
  }
  return (
    <>
      <MessageText text={shown} />
      {(entry.edited || (edit && edit.status !== 'failed')) && <span className="edited">(edited)</span>}
      {pending.some((c) => c.status === 'sending') && <span className="status sending">{del ? 'Deleting…' : 'Saving…'}</span>}
      {failed && (
        <span className="status failed" role="alert">
          <span>
            {failed.op === 'delete' ? 'Not deleted' : 'Edit not saved'}
            {failed.error ? `: ${failed.error}` : ''}
          </span>
          <button type="button" className="quiet" onClick={() => client.retry(failed.clientId)}>
            Retry
          </button>
          <button type="button" className="quiet" onClick={() => client.discard(failed.clientId)}>
            Discard
          </button>
        </span>
      )}
      {(mayEdit || mayDelete) && !del && (
        <span className="msg-actions">
          {confirming ? (
            <>
              <button
                type="button"
                className="quiet danger"
                onClick={() => {
                  client.deleteMessage(room.name, entry.seq);
                  setConfirming(false);
                }}
              >
                Delete for everyone
              </button>
              <button type="button" className="quiet" onClick={() => setConfirming(false)}>
                Keep
              </button>
            </>
          ) : (
            <>
              {mayEdit && (
                <button type="button" className="quiet" aria-label="Edit message" onClick={() => setEditing(shown)}>
                  Edit
                </button>
              )}
              {mayDelete && (
                <button type="button" className="quiet" aria-label="Delete message" onClick={() => setConfirming(true)}>
                  Delete
                </button>
              )}
            </>
          )}
        </span>
      )}
    </>
  );
}

function OutgoingStatus({ o, offline }: { o: Outgoing; offline: boolean }) {
  const client = useClient();
  switch (o.status) {
    case 'sending':
      return <span className="status sending">{offline ? 'Waiting for the connection…' : 'Sending…'}</span>;
    case 'sent':
      return (
        <span className="status sent" title="Sent">
          <span aria-hidden="true">✓</span>
          <span className="sr-only">Sent</span>
        </span>
      );
    case 'failed':
      return (
        <span className="status failed" role="alert">
          <span>Not sent{o.error ? `: ${o.error}` : ''}</span>
          <button type="button" className="quiet" onClick={() => client.retry(o.clientId)}>
            Retry
          </button>
          <button type="button" className="quiet" onClick={() => client.discard(o.clientId)}>
            Discard
          </button>
        </span>
      );
  }
}
