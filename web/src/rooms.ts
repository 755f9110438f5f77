// What the client tells about rooms, pure: the name shown for a room of each
// kind, the unread count from a read marker, and who may change a message.

import type { Entry } from './protocol';
import type { RoomKind } from './rest';

/** RoomMeta is what the client knows of a room beyond its log: GET /api/rooms and, for a direct room, its members. */
export interface RoomMeta {
  readonly kind: RoomKind;
  /** A private room's name for people. */
  readonly title?: string;
  readonly topic?: string;
  /** The account that made a private room. */
  readonly owner?: string;
  /** A private or direct room's members, once read. */
  readonly members?: readonly string[];
}

/** kindOf returns a room's kind: from what the server said, else from the name (~ private, @ direct). */
export function kindOf(name: string, meta?: RoomMeta): RoomKind {
  if (meta) return meta.kind;
  if (name.startsWith('~')) return 'private';
  if (name.startsWith('@')) return 'direct';
  return 'public';
}

/**
 * roomLabel is the name people see for a room: a public room's name, a
 * private room's title, a direct room's other members (by name, in order),
 * or, while those are unknown, words that say what it is.
 */
export function roomLabel(name: string, meta: RoomMeta | undefined, me: string | null): string {
  switch (kindOf(name, meta)) {
    case 'private':
      return meta?.title?.trim() || 'Private room';
    case 'direct': {
      const others = (meta?.members ?? []).filter((m) => !me || m.toLowerCase() !== me.toLowerCase());
      if (others.length) return others.slice().sort((a, b) => a.localeCompare(b)).join(', ');
      return meta?.members ? 'Only you' : 'Direct conversation';
    }
    default:
      return name;
  }
}

/**
 * unreadCount counts the messages of entries after the read marker readSeq
 * that someone else wrote and that are not deleted: joins, leaves and one's
 * own messages are not unread.
 */
export function unreadCount(entries: readonly Entry[], readSeq: number, me: string | null): number {
  let n = 0;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    if (e.seq <= readSeq) break;
    if (e.type === 'message' && !e.deleted && e.from !== me) n++;
  }
  return n;
}

/** Powers is what a person may do beyond their own messages in a room. */
export interface Powers {
  /** An account with admin. */
  readonly admin: boolean;
  /** The owner of this private room. */
  readonly owner: boolean;
}

/** canEdit reports whether me may edit the message e: their own, not deleted. */
export function canEdit(e: Entry, me: string | null): boolean {
  return e.type === 'message' && !e.deleted && me !== null && e.from === me;
}

/** canDelete reports whether me may delete the message e: their own, or anyone's for an admin or a private room's owner. */
export function canDelete(e: Entry, me: string | null, p: Powers): boolean {
  if (e.type !== 'message' || e.deleted || me === null) return false;
  return e.from === me || p.admin || p.owner;
}
