import { describe, expect, it } from 'vitest';
import { linkify } from './linkify';
import { validateNick, validateRoomName, validateText } from './validate';

describe('linkify', () => {
  it('links http and https URLs only', () => {
    expect(linkify('see https://example.com/a?b=1 and http://x.org.')).toEqual([
      { kind: 'text', text: 'see ' },
      { kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' },
      { kind: 'text', text: ' and ' },
      { kind: 'link', text: 'http://x.org', href: 'http://x.org/' },
      { kind: 'text', text: '.' },
    ]);
    expect(linkify('javascript:alert(1) ftp://x.org www.example.com')).toEqual([
      { kind: 'text', text: 'javascript:alert(1) ftp://x.org www.example.com' },
    ]);
  });

  it('keeps balanced brackets and drops unbalanced ones', () => {
    expect(linkify('(https://en.wikipedia.org/wiki/Go_(language))')).toEqual([
      { kind: 'text', text: '(' },
      { kind: 'link', text: 'https://en.wikipedia.org/wiki/Go_(language)', href: 'https://en.wikipedia.org/wiki/Go_(language)' },
      { kind: 'text', text: ')' },
    ]);
  });

  it('leaves HTML as text', () => {
    expect(linkify('<img src=x onerror=alert(1)>')).toEqual([{ kind: 'text', text: '<img src=x onerror=alert(1)>' }]);
  });
});

describe('validate', () => {
  it('checks nicknames as the server does', () => {
    expect(validateNick('ana')).toBeNull();
    expect(validateNick('Ana María')).toBeNull();
    expect(validateNick('x'.repeat(32))).toBeNull();
    expect(validateNick('x'.repeat(33))).toMatch(/longer than 32/);
    expect(validateNick('')).toMatch(/required/);
    expect(validateNick(' ana')).toMatch(/start or end/);
    expect(validateNick('ana ')).toMatch(/start or end/);
    expect(validateNick('a  b')).toMatch(/two spaces/);
    expect(validateNick('a\tb')).toMatch(/printable/);
    expect(validateNick('a\u0000b')).toMatch(/printable/);
    expect(validateNick('😀'.repeat(32))).toBeNull();
  });

  it('takes a zero-width joiner between two emoji only, as the server does', () => {
    for (const ok of ['👩\u200d💻 dev', '👨\u200d👩\u200d👧', '🧑🏽\u200d🚀', '🏳\ufe0f\u200d🌈']) {
      expect(validateNick(ok)).toBeNull();
      expect(validateRoomName(ok)).toBeNull();
    }
    for (const bad of ['a\u200dna', '👩\u200da', 'ana 👩\u200d', '\u200d💻', '👩\u200d\u200d💻']) {
      expect(validateNick(bad)).toMatch(/printable/);
      expect(validateRoomName(bad)).toMatch(/printable/);
    }
  });

  it('checks room names and message text', () => {
    expect(validateRoomName('general')).toBeNull();
    expect(validateRoomName('two  spaces ok')).toBeNull();
    expect(validateRoomName(' x')).not.toBeNull();
    expect(validateRoomName('y'.repeat(65))).not.toBeNull();
    expect(validateText('   \n ')).toMatch(/empty/);
    expect(validateText('é'.repeat(2048))).toBeNull();
    expect(validateText('é'.repeat(2049))).toMatch(/4096 bytes/);
  });
});
