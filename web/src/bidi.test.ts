import { describe, expect, it } from 'vitest';
import { markBidiControls } from './bidi';

describe('markBidiControls', () => {
  it('shows each embedding, override and isolate as a marker', () => {
    const all = Array.from({ length: 5 }, (_, i) => String.fromCodePoint(0x202a + i)).join('') + '\u2066\u2067\u2068\u2069';
    expect(markBidiControls(all)).toBe(
      '⟨U+202A⟩⟨U+202B⟩⟨U+202C⟩⟨U+202D⟩⟨U+202E⟩⟨U+2066⟩⟨U+2067⟩⟨U+2068⟩⟨U+2069⟩',
    );
  });

  it('takes the disguise off a file name', () => {
    // Shown raw, this reads "invoice_exe.txt".
    expect(markBidiControls('invoice_\u202Etxt.exe')).toBe('invoice_⟨U+202E⟩txt.exe');
    expect(markBidiControls('\u2067abc\u2069 def')).toBe('⟨U+2067⟩abc⟨U+2069⟩ def');
  });

  it('leaves right-to-left text, the marks and everything else alone', () => {
    for (const s of ['', 'hello', 'مرحبا بالعالم', 'שלום world', 'a\u200Eb\u200Fc\u061Cd', '👩‍💻 ⟨U+202E⟩ typed by hand']) {
      expect(markBidiControls(s)).toBe(s);
    }
  });
});
