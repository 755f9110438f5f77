// RoomLog is the client's copy of one room's log: the entries it has, in
// order by sequence number, without duplicates and without gaps, with the
// edits and deletions folded into the messages they change (docs/PROTOCOL.md,
// "Edits and deletions"). It is pure:
// no socket, no timers, no fetch. The connection feeds it pages read over
// REST and entries that arrive live, and acts on what it reports: the
// entries applied, and whether one is held beyond a gap that it must fill.

import type { Entry } from './protocol';

/** isShown reports whether the client shows entries of this kind. */
function isShown(e: Entry): boolean {
  return e.type === 'message' || e.type === 'join' || e.type === 'leave';
}

/**
 * fold returns messages (ascending by seq) with the edit or deletion change
 * applied to the message it targets, as docs/PROTOCOL.md says: an edit
 * takes effect unless the message is deleted or shows a later edit, or the
 * edit itself carries deleted; a deletion drops the text for good. The
 * message changed is a new object; the others are kept. A change of a
 * message not in messages changes nothing: its page comes as it stands.
 */
export function fold(messages: readonly Entry[], change: Entry): readonly Entry[] {
  if ((change.type !== 'edit' && change.type !== 'delete') || !change.target) return messages;
  const i = indexOfSeq(messages, change.target);
  const m = i < 0 ? undefined : messages[i];
  if (!m || m.type !== 'message' || m.deleted) return messages;
  let next: Entry;
  if (change.type === 'edit') {
    if (change.deleted || (m.edited ?? 0) >= change.seq) return messages;
    next = { ...m, text: change.text ?? '', edited: change.seq };
  } else {
    next = { ...m, deleted: change.seq };
    delete next.text;
  }
  const out = messages.slice();
  out[i] = next;
  return out;
}

/** indexOfSeq finds the entry numbered seq in entries (ascending by seq), or -1. */
function indexOfSeq(entries: readonly Entry[], seq: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = entries[mid]!.seq;
    if (s === seq) return mid;
    if (s < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** foldPage returns the entries shown of page, with its own edits and deletions folded in. */
function foldPage(page: readonly Entry[]): Entry[] {
  let shown: readonly Entry[] = page.filter(isShown);
  for (const e of page) if (!isShown(e)) shown = fold(shown, e);
  return shown.slice();
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
  private shown: readonly Entry[] = [];
  private lastSeq = -1;
  /** Entries beyond a gap, waiting for the gap to be filled. */
  private ahead = new Map<number, Entry>();
  private olderExist = false;

  /** entries are the entries shown (messages, as they stand, joins, leaves), ascending by seq. */
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
    this.shown = foldPage(page);
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
    if (isShown(e)) this.shown = this.shown.concat(e);
    else this.shown = fold(this.shown, e);
  }

  /** prepend takes a page of older entries (ascending by seq); those not below the oldest loaded are ignored. */
  prepend(page: readonly Entry[]): void {
    const first = this.before;
    const older = page.filter((e) => e.seq < first);
    // An edit or a deletion targets an older message: those of this page
    // change messages of this page only.
    this.shown = foldPage(older).concat(this.shown);
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
