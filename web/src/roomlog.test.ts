import { describe, expect, it } from 'vitest';
import type { Entry } from './protocol';
import { RoomLog } from './roomlog';

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
