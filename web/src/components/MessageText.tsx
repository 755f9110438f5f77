import { markBidiControls } from '../bidi';
import { linkify } from '../linkify';

/**
 * MessageText renders a message's text. It is always text: React escapes
 * it, and only http and https URLs become links, which open in a new tab
 * without giving it a handle on this one. Its direction is the text's own
 * (dir="auto"), and characters that would reorder it are shown as markers
 * (see bidi.ts); a link keeps the address as written.
 */
export function MessageText({ text }: { text: string }) {
  return (
    <p className="text" dir="auto">
      {linkify(text).map((s, i) =>
        s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {markBidiControls(s.text)}
          </a>
        ) : (
          markBidiControls(s.text)
        ),
      )}
    </p>
  );
}
