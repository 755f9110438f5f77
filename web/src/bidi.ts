// Right-to-left text and the characters that can disguise it.
//
// Message text is shown in an element with dir="auto" (names too), so a
// message in Arabic or Hebrew reads right to left and keeps its order apart
// from the text around it. What it cannot undo is a message that reorders
// itself: the explicit embedding, override and isolate characters
// (U+202A-U+202E, U+2066-U+2069) make "invoice\u202Etxt.exe" look like
// "invoiceexe.txt". Each one is shown as a visible marker instead, which
// has no effect on the order. The marks (U+200E, U+200F, U+061C) stay: they
// are as strong as one letter, and reorder nothing around them.

const controls = /[\u202A-\u202E\u2066-\u2069]/gu;

/**
 * markBidiControls returns text with each bidirectional embedding, override
 * or isolate character replaced by a visible marker naming it, such as
 * ⟨U+202E⟩. Everything else is left as it is.
 */
export function markBidiControls(text: string): string {
  return text.replace(controls, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase()}⟩`);
}
