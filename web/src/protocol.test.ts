import { describe, expect, it } from 'vitest';
import { PROTOCOL_VERSION, decodeEvents, decodeFrame, encodeEvents, encodeFrame, type ClientFrame } from './protocol';

describe('codec', () => {
  it('encodes one frame as one JSON object', () => {
    const f: ClientFrame = { type: 'hello', v: PROTOCOL_VERSION, nick: 'ana' };
    expect(encodeFrame(f)).toBe('{"type":"hello","v":1,"nick":"ana"}');
    expect(decodeFrame(encodeFrame(f))).toEqual(f);
  });

  it('splits a server message on newlines into events and entries', () => {
    const data = [
      '{"type":"joined","room":"general","lastSeq":41,"online":["ana","bob"]}',
      '{"room":"general","seq":42,"type":"join","from":"ana","at":"2026-11-22T09:30:00.12Z"}',
      '{"type":"ack","room":"general","clientId":"a-1","seq":43,"at":"2026-11-22T09:30:01.512Z"}',
    ].join('\n');
    expect(decodeEvents(data)).toEqual([
      { kind: 'event', event: { type: 'joined', room: 'general', lastSeq: 41, online: ['ana', 'bob'] } },
      { kind: 'entry', entry: { room: 'general', seq: 42, type: 'join', from: 'ana', at: '2026-11-22T09:30:00.12Z' } },
      // An ack has a seq too, but it is not an entry.
      { kind: 'event', event: { type: 'ack', room: 'general', clientId: 'a-1', seq: 43, at: '2026-11-22T09:30:01.512Z' } },
    ]);
  });

  it('takes an event with a seq and a room as an entry, whatever its type', () => {
    expect(decodeEvents('{"room":"general","seq":7,"type":"edit","from":"bob","at":"x"}')).toEqual([
      { kind: 'entry', entry: { room: 'general', seq: 7, type: 'edit', from: 'bob', at: 'x' } },
    ]);
  });

  it('skips blank lines, lines that are not JSON objects and events it does not know', () => {
    const data = ['', '  ', 'not json', '42', 'null', '{"type":"future","room":"general"}', '{"type":"pong"}', ''].join('\n');
    expect(decodeEvents(data)).toEqual([{ kind: 'event', event: { type: 'pong' } }]);
  });

  it('encodes events as the server batches them, one per line', () => {
    const events = [
      { type: 'online', room: 'general', nick: 'bob' },
      { type: 'typing', room: 'general', from: 'bob' },
    ];
    const data = encodeEvents(events);
    expect(data.split('\n')).toHaveLength(2);
    expect(decodeEvents(data).map((i) => (i.kind === 'event' ? i.event : i.entry))).toEqual(events);
  });
});
