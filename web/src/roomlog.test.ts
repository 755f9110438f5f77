import { describe, expect, it } from 'vitest';
import type { Entry } from './protocol';
import { RoomLog, fold } from './roomlog';

function msg(seq: number, from = 'bob', text = `m${seq}`): Entry {
  return { room: 'general', seq, type: 'message', from, text, clientId: `${from}-${seq}`, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() };
}

function entry(seq: number, type: string, from = 'bob'): Entry {
  return { room: 'general', seq, type, from, at: new Date(1_700_000_000_000 + seq * 1000).toISOString() };
}

const seqs = (log: RoomLog): number[] => log.entries.map((e) => e.seq);

/** started returns a log whose position is last, with nothing loaded. */
function started(last: number): RoomLog {
  const log = new RoomLog();
  log.startAt(last);
  return log;
}

describe('RoomLog', () => {
  it('is unknown at first, and drops entries until its position is known', () => {
    const log = new RoomLog();
    expect(log.known).toBe(false);
    expect(log.last).toBe(-1);
    expect(log.ingest(msg(1))).toEqual({ applied: [], held: false });
    expect(log.entries).toEqual([]);
    expect(log.gap).toBe(false);
  });

  it('starts from the newest page of history', () => {
    const log = new RoomLog();
    expect(log.start([entry(3, 'join'), msg(4), msg(5)])).toBe(true);
    expect(seqs(log)).toEqual([3, 4, 5]);
    expect(log.last).toBe(5);
    expect(log.older).toBe(true);
    expect(log.before).toBe(3);
    // Known now: a second page changes nothing.
    expect(log.start([msg(9)])).toBe(false);
    expect(log.startAt(9)).toBe(false);
    expect(log.last).toBe(5);
  });

  it('starts an empty log at 0, with nothing older', () => {
    const log = new RoomLog();
    log.start([]);
    expect(log.last).toBe(0);
    expect(log.older).toBe(false);
    expect(log.ingest(msg(1)).applied.map((e) => e.seq)).toEqual([1]);
  });

  it('starts at a position with nothing loaded, everything before it older', () => {
    const log = started(7);
    expect(log.known).toBe(true);
    expect(log.entries).toEqual([]);
    expect(log.older).toBe(true);
    expect(log.before).toBe(8);
    expect(started(0).older).toBe(false);
  });

  it('applies entries in order and drops duplicates by seq', () => {
    const log = started(0);
    for (const e of [msg(1), msg(2), msg(2), msg(1), msg(3), msg(3)]) log.ingest(e);
    expect(seqs(log)).toEqual([1, 2, 3]);
    expect(log.last).toBe(3);
    expect(log.ingest(msg(2))).toEqual({ applied: [], held: false });
  });

  it('holds an entry beyond a gap, and applies it once the gap is filled', () => {
    const log = started(2);
    const r = log.ingest(msg(5));
    expect(r).toEqual({ applied: [], held: true });
    expect(log.gap).toBe(true);
    expect(log.last).toBe(2);
    expect(log.ingest(msg(4)).held).toBe(true);
    expect(log.ingest(msg(3)).applied.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.gap).toBe(false);
    expect(seqs(log)).toEqual([3, 4, 5]);
    expect(log.last).toBe(5);
  });

  it('keeps holding what lies beyond a second gap', () => {
    const log = started(0);
    log.ingest(msg(3));
    log.ingest(msg(6));
    expect(log.ingest(msg(1)).applied.map((e) => e.seq)).toEqual([1]);
    expect(log.ingest(msg(2)).applied.map((e) => e.seq)).toEqual([2, 3]);
    expect(log.gap).toBe(true);
    expect(log.ingest(msg(5)).held).toBe(true);
    expect(log.ingest(msg(4)).applied.map((e) => e.seq)).toEqual([4, 5, 6]);
    expect(log.gap).toBe(false);
  });

  it('counts entries of kinds it does not show, without showing them', () => {
    const log = started(0);
    const r = log.ingest(entry(1, 'edit'));
    expect(r.applied.map((e) => e.type)).toEqual(['edit']);
    log.ingest(entry(2, 'join', 'carol'));
    log.ingest(entry(3, 'leave', 'carol'));
    expect(log.entries.map((e) => e.type)).toEqual(['join', 'leave']);
    expect(log.last).toBe(3);
    expect(log.ingest(msg(4)).held).toBe(false);
  });

  it('prepends older pages below the oldest entry it has', () => {
    const log = new RoomLog();
    log.start([msg(51), msg(52)]);
    log.prepend([msg(49), entry(50, 'edit'), msg(51)]);
    expect(seqs(log)).toEqual([49, 51, 52]);
    expect(log.older).toBe(true);
    expect(log.before).toBe(49);
    log.prepend([msg(1), msg(48)]);
    expect(seqs(log)).toEqual([1, 48, 49, 51, 52]);
    expect(log.older).toBe(false);
    log.prepend([]);
    expect(log.older).toBe(false);
  });

  it('forgets everything on reset', () => {
    const log = new RoomLog();
    log.start([msg(1), msg(2)]);
    log.ingest(msg(4));
    log.reset();
    expect(log.known).toBe(false);
    expect(log.entries).toEqual([]);
    expect(log.gap).toBe(false);
    log.start([msg(1)]);
    expect(seqs(log)).toEqual([1]);
  });
});

function edit(seq: number, target: number, text: string, extra: Partial<Entry> = {}): Entry {
  return { room: 'r', seq, type: 'edit', from: 'bob', target, text, at: '2026-01-01T00:00:00Z', ...extra };
}

function del(seq: number, target: number): Entry {
  return { room: 'r', seq, type: 'delete', from: 'bob', target, at: '2026-01-01T00:00:00Z' };
}

describe('edits and deletions', () => {
  it('folds a live edit into its message and marks it edited, keeping the seq', () => {
    const log = new RoomLog();
    log.start([msg(1), msg(2)]);
    log.ingest(edit(3, 1, 'changed'));
    expect(seqs(log)).toEqual([1, 2]);
    expect(log.entries[0]).toMatchObject({ seq: 1, text: 'changed', edited: 3 });
    expect(log.entries[1]).toMatchObject({ seq: 2, text: 'm2' });
    expect(log.entries[1]!.edited).toBeUndefined();
    expect(log.last).toBe(3);
  });

  it('shows a deleted message as a tombstone with no text, whatever comes after', () => {
    const log = new RoomLog();
    log.start([msg(1)]);
    log.ingest(del(2, 1));
    log.ingest(edit(3, 1, 'too late'));
    expect(log.entries[0]).toMatchObject({ seq: 1, deleted: 2 });
    expect(log.entries[0]!.text).toBeUndefined();
  });

  it('keeps the later edit when an earlier one is read after it', () => {
    const shown = [{ ...msg(1), text: 'second', edited: 5 }];
    expect(fold(shown, edit(4, 1, 'first'))).toBe(shown);
    expect(fold(shown, edit(6, 1, 'third'))[0]).toMatchObject({ text: 'third', edited: 6 });
  });

  it('ignores an edit that carries deleted, and changes of messages it does not have', () => {
    const shown = [msg(3)];
    expect(fold(shown, edit(4, 3, '', { deleted: 5 }))).toBe(shown);
    expect(fold(shown, edit(4, 1, 'older'))).toBe(shown);
    expect(fold(shown, del(4, 2))).toBe(shown);
  });

  it('takes a page as the server states it: messages as they stand, their edits folded again harmlessly', () => {
    const log = new RoomLog();
    // A replayed page: the message already carries its latest edit and the
    // edit entries lost their text with the deletion of another.
    log.start([
      { ...msg(1), text: 'v2', edited: 3 },
      { ...msg(2), deleted: 5, text: undefined },
      edit(3, 1, 'v2'),
      edit(4, 2, '', { deleted: 5, text: undefined }),
      del(5, 2),
    ]);
    expect(log.entries.map((e) => [e.seq, e.text, e.edited, e.deleted])).toEqual([
      [1, 'v2', 3, undefined],
      [2, undefined, undefined, 5],
    ]);
  });

  it('folds the edits of an older page into that page', () => {
    const log = new RoomLog();
    log.start([msg(10)]);
    log.prepend([msg(7), edit(8, 7, 'fixed'), del(9, 7)]);
    expect(log.entries.map((e) => [e.seq, e.deleted ?? null])).toEqual([
      [7, 9],
      [10, null],
    ]);
  });
});
