// RoomLog is the client's copy of one room's log: the entries it has, in
// order by sequence number, without duplicates and without gaps. It is pure:
// no socket, no timers, no fetch. The connection feeds it pages read over
// REST and entries that arrive live, and acts on what it reports: the
// entries applied, and whether one is held beyond a gap that it must fill.

import type { Entry } from './protocol';

/** isShown reports whether the client shows entries of this kind. */
function isShown(e: Entry): boolean {
  return e.type === 'message' || e.type === 'join' || e.type === 'leave';
}

/** Ingested is what [RoomLog.ingest] did with an entry. */
export interface Ingested {
  /**
   * The entries applied, in order: the one ingested, if it was the next,
   * and those held beyond it that now follow without a gap. Entries of
   * kinds the client does not show are applied too (they advance last).
   */
  readonly applied: readonly Entry[];
  /** The entry came beyond a gap, and is held until the gap is filled. */
  readonly held: boolean;
}

const nothing: Ingested = { applied: [], held: false };

export class RoomLog {
  private shown: Entry[] = [];
  private lastSeq = -1;
  /** Entries beyond a gap, waiting for the gap to be filled. */
  private ahead = new Map<number, Entry>();
  private olderExist = false;

  /** entries are the entries shown (messages, joins, leaves), ascending by seq. */
  get entries(): readonly Entry[] {
    return this.shown;
  }

  /** last is the highest seq received without a gap: 0 for an empty log, -1 while unknown. */
  get last(): number {
    return this.lastSeq;
  }

  /** known reports whether the log's position is known; entries before that are dropped. */
  get known(): boolean {
    return this.lastSeq >= 0;
  }

  /** older reports whether entries exist below the oldest one loaded. */
  get older(): boolean {
    return this.olderExist;
  }

  /** gap reports whether entries are held beyond a gap. */
  get gap(): boolean {
    return this.ahead.size > 0;
  }

  /** before is the seq below which the next older page lies. */
  get before(): number {
    return this.shown.length ? this.shown[0]!.seq : this.lastSeq + 1;
  }

  /**
   * start takes the newest page of the log (ascending by seq) while the log
   * is unknown. It returns false, changing nothing, when the log is known.
   */
  start(page: readonly Entry[]): boolean {
    if (this.known) return false;
    this.shown = page.filter(isShown);
    this.lastSeq = page.length ? page[page.length - 1]!.seq : 0;
    this.olderExist = page.length > 0 && page[0]!.seq > 1;
    return true;
  }

  /**
   * startAt sets the log's position to lastSeq with nothing loaded, while
   * the log is unknown: later entries come by ingest, older ones by
   * prepend. It returns false, changing nothing, when the log is known.
   */
  startAt(lastSeq: number): boolean {
    if (this.known) return false;
    this.lastSeq = lastSeq;
    this.olderExist = lastSeq > 0;
    return true;
  }

  /**
   * ingest takes one entry: one at or below last is a duplicate and is
   * dropped, the next one is applied, and one beyond a gap is held until
   * the entries between arrive. Entries are dropped while the log is unknown.
   */
  ingest(e: Entry): Ingested {
    if (!this.known || e.seq <= this.lastSeq) return nothing;
    if (e.seq > this.lastSeq + 1) {
      this.ahead.set(e.seq, e);
      return { applied: [], held: true };
    }
    const applied = [e];
    this.apply(e);
    for (let next = this.ahead.get(this.lastSeq + 1); next; next = this.ahead.get(this.lastSeq + 1)) {
      this.ahead.delete(next.seq);
      applied.push(next);
      this.apply(next);
    }
    for (const seq of this.ahead.keys()) if (seq <= this.lastSeq) this.ahead.delete(seq);
    return { applied, held: false };
  }

  private apply(e: Entry): void {
    this.lastSeq = e.seq;
    if (isShown(e)) this.shown.push(e);
  }

  /** prepend takes a page of older entries (ascending by seq); those not below the oldest loaded are ignored. */
  prepend(page: readonly Entry[]): void {
    const first = this.before;
    const older = page.filter((e) => e.seq < first);
    this.shown = older.filter(isShown).concat(this.shown);
    this.olderExist = older.length > 0 && older[0]!.seq > 1;
  }

  /** reset forgets everything: the log is unknown again. */
  reset(): void {
    this.shown = [];
    this.lastSeq = -1;
    this.ahead.clear();
    this.olderExist = false;
  }
}
