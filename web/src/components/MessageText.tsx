import { linkify } from '../linkify';

/**
 * MessageText renders a message's text. It is always text: React escapes
 * it, and only http and https URLs become links, which open in a new tab
 * without giving it a handle on this one.
 */
export function MessageText({ text }: { text: string }) {
  return (
    <p className="text">
      {linkify(text).map((s, i) =>
        s.kind === 'link' ? (
          <a key={i} href={s.href} target="_blank" rel="noopener noreferrer">
            {s.text}
          </a>
        ) : (
          s.text
        ),
      )}
    </p>
  );
}
