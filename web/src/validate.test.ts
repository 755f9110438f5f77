/// <reference types="node" />
// node:fs reads the vectors shared with the Go tests; the tests run under Node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { validateNick, validateRoomName } from './validate';

// The vectors of the name rules that the server's names_test.go reads too:
// the client must accept and refuse exactly what the server does.
interface NameVector {
  name: string;
  valid: boolean;
  why: string;
}

const vectors = JSON.parse(readFileSync(new URL('../../testdata/names.json', import.meta.url), 'utf8')) as {
  nick: NameVector[];
  room: NameVector[];
};

/** verdicts returns, for each vector, what validate says, next to what the vector wants. */
function verdicts(vs: NameVector[], validate: (s: string) => string | null) {
  return vs.map((v) => {
    const err = validate(v.name);
    return { name: v.name, why: v.why, valid: err === null, err };
  });
}

describe('name vectors (testdata/names.json)', () => {
  it('has vectors for nicknames and room names', () => {
    expect(vectors.nick.length).toBeGreaterThan(0);
    expect(vectors.room.length).toBeGreaterThan(0);
  });

  for (const [fn, vs, validate] of [
    ['validateNick', vectors.nick, validateNick],
    ['validateRoomName', vectors.room, validateRoomName],
  ] as const) {
    it(`${fn} agrees with every vector`, () => {
      const got = verdicts(vs, validate);
      const mismatched = got.filter((g, i) => g.valid !== vs[i]!.valid);
      expect(mismatched).toEqual([]);
      // A refusal is a sentence for people, like the server's.
      for (const g of got) if (g.err !== null) expect(g.err).toMatch(/^[A-Z].*\.$/);
    });
  }
});
