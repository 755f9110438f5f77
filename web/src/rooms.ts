// What the client tells about rooms, pure: the name shown for a room of each
// kind, the unread count from a read marker, and who may change a message
// or manage a room (archive, delete, describe).

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
  /** A longer text than the topic; absent from a server that has none. */
  readonly description?: string;
  /** Whether the room is archived: readable, but it takes nothing new. */
  readonly archived?: boolean;
  /** When the room was made (GET /api/rooms), to tell a room made again under its name from the one known. */
  readonly createdAt?: string;
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

/** DEFAULT_ROOM is the room everyone starts in; it is never archived or deleted. */
export const DEFAULT_ROOM = 'general';

/** RoomPowers is what a person may do to a room itself. */
export interface RoomPowers {
  /** Change its topic and description (and a private room's title). */
  readonly describe: boolean;
  /** Archive it or bring it back. */
  readonly archive: boolean;
  /** Delete it with its history. */
  readonly delete: boolean;
}

/**
 * roomPowers says what me may do to a room, as the server decides it: a
 * private room's owner or an admin changes, archives and deletes it; a
 * public room, an admin; a direct room is changed by its people but
 * neither archived nor deleted, and neither is the default room. The
 * server checks again; this only decides which controls are shown.
 */
export function roomPowers(room: { name: string; kind: RoomKind; owner: string }, me: string | null, admin: boolean): RoomPowers {
  const none = { describe: false, archive: false, delete: false };
  if (me === null) return none;
  if (room.kind === 'direct') return { describe: true, archive: false, delete: false };
  const owner = room.kind === 'private' && room.owner !== '' && room.owner.toLowerCase() === me.toLowerCase();
  if (!admin && !owner) return none;
  const removable = room.name !== DEFAULT_ROOM;
  return { describe: true, archive: removable, delete: removable };
}
