import { describe, expect, it } from 'vitest';
import type { Entry } from './protocol';
import { canDelete, canEdit, kindOf, roomLabel, roomPowers, unreadCount } from './rooms';

function msg(seq: number, from: string, extra: Partial<Entry> = {}): Entry {
  return { room: 'r', seq, type: 'message', from, text: `m${seq}`, at: '2026-01-01T00:00:00Z', ...extra };
}

describe('roomLabel', () => {
  it('shows a public room by its name and a private one by its title', () => {
    expect(roomLabel('general', undefined, 'ana')).toBe('general');
    expect(roomLabel('~a1b2c3d4e5f6g7h8', { kind: 'private', title: 'Plans' }, 'ana')).toBe('Plans');
    expect(roomLabel('~a1b2c3d4e5f6g7h8', undefined, 'ana')).toBe('Private room');
  });

  it('shows a direct conversation by the other people, whatever the case of one’s own name', () => {
    const meta = { kind: 'direct' as const, members: ['bob', 'Ana', 'carol'] };
    expect(roomLabel('@0123', meta, 'ana')).toBe('bob, carol');
    expect(roomLabel('@0123', { kind: 'direct' }, 'ana')).toBe('Direct conversation');
    expect(roomLabel('@0123', { kind: 'direct', members: ['ana'] }, 'ana')).toBe('Only you');
  });

  it('tells the kind from the name while the server has not said', () => {
    expect(kindOf('~x')).toBe('private');
    expect(kindOf('@x')).toBe('direct');
    expect(kindOf('x~')).toBe('public');
    expect(kindOf('~x', { kind: 'public' })).toBe('public');
  });
});

describe('unreadCount', () => {
  const entries: Entry[] = [
    msg(1, 'bob'),
    msg(2, 'bob'),
    { room: 'r', seq: 3, type: 'join', from: 'dan', at: '2026-01-01T00:00:00Z' },
    msg(4, 'ana'),
    msg(5, 'bob', { deleted: 7, text: undefined }),
    msg(6, 'carol'),
  ];
  it('counts others’ messages after the marker, not joins, own messages or tombstones', () => {
    expect(unreadCount(entries, 0, 'ana')).toBe(3);
    expect(unreadCount(entries, 1, 'ana')).toBe(2);
    expect(unreadCount(entries, 2, 'ana')).toBe(1);
    expect(unreadCount(entries, 6, 'ana')).toBe(0);
    // A marker above what was delivered yet: those entries are read.
    expect(unreadCount(entries, 40, 'ana')).toBe(0);
  });
});

describe('who may change a message', () => {
  const none = { admin: false, owner: false };
  it('lets people edit and delete their own messages only', () => {
    expect(canEdit(msg(1, 'ana'), 'ana')).toBe(true);
    expect(canEdit(msg(1, 'bob'), 'ana')).toBe(false);
    expect(canDelete(msg(1, 'ana'), 'ana', none)).toBe(true);
    expect(canDelete(msg(1, 'bob'), 'ana', none)).toBe(false);
  });
  it('lets admins and a private room’s owner delete anyone’s message, but not edit it', () => {
    expect(canDelete(msg(1, 'bob'), 'ana', { admin: true, owner: false })).toBe(true);
    expect(canDelete(msg(1, 'bob'), 'ana', { admin: false, owner: true })).toBe(true);
    expect(canEdit(msg(1, 'bob'), 'ana')).toBe(false);
  });
  it('offers nothing on a deleted message', () => {
    const gone = msg(1, 'ana', { deleted: 2, text: undefined });
    expect(canEdit(gone, 'ana')).toBe(false);
    expect(canDelete(gone, 'ana', { admin: true, owner: true })).toBe(false);
  });
});

describe('roomPowers', () => {
  const all = { describe: true, archive: true, delete: true };
  const none = { describe: false, archive: false, delete: false };
  it('lets a private room’s owner (any case) and an admin manage it, and nobody else', () => {
    const room = { name: '~a1', kind: 'private' as const, owner: 'Ana' };
    expect(roomPowers(room, 'ana', false)).toEqual(all);
    expect(roomPowers(room, 'bob', true)).toEqual(all);
    expect(roomPowers(room, 'bob', false)).toEqual(none);
    expect(roomPowers(room, null, true)).toEqual(none);
  });

  it('lets only admins manage a public room, and nobody archive or delete general or a direct room', () => {
    expect(roomPowers({ name: 'dev', kind: 'public', owner: '' }, 'ana', false)).toEqual(none);
    expect(roomPowers({ name: 'dev', kind: 'public', owner: '' }, 'ana', true)).toEqual(all);
    expect(roomPowers({ name: 'general', kind: 'public', owner: '' }, 'ana', true)).toEqual({ describe: true, archive: false, delete: false });
    expect(roomPowers({ name: '@x', kind: 'direct', owner: '' }, 'ana', true)).toEqual({ describe: true, archive: false, delete: false });
  });
});
