import { markBidiControls } from '../bidi';
import { useLayoutEffect, useRef, useState, type FormEvent, type KeyboardEvent } from 'react';
import type { RoomState } from '../connection';
import { useChatState, useClient } from '../useChat';
import { textBytes, validateText } from '../validate';

/** Composer is the message box: Enter sends, Shift+Enter starts a new line. An archived room's is disabled, and says why. */
export function Composer({ room }: { room: RoomState }) {
  const client = useClient();
  const { limits } = useChatState();
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const ref = useRef<HTMLTextAreaElement>(null);

  // Grow with the text, up to a limit set in CSS.
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    el.style.height = 'auto';
    el.style.height = `${el.scrollHeight}px`;
  }, [text]);

  function send(e?: FormEvent) {
    e?.preventDefault();
    if (room.archived) return;
    const problem = validateText(text, limits.maxTextBytes);
    if (problem) {
      setError(text.trim() === '' ? null : problem);
      return;
    }
    client.send(room.name, text);
    setText('');
    setError(null);
    ref.current?.focus();
  }

  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>) {
    if (e.key === 'Enter' && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      send();
    }
  }

  // A room's title or a person's name, with its reordering characters shown as markers.
  const where = markBidiControls(room.kind === 'public' ? `#${room.name}` : room.label);
  const bytes = textBytes(text);
  const nearLimit = bytes > limits.maxTextBytes * 0.85;

  return (
    <form className="composer" onSubmit={send} noValidate>
      <label htmlFor="composer" className="sr-only">
        Message {where}
      </label>
      <textarea
        id="composer"
        ref={ref}
        rows={1}
        dir="auto"
        value={text}
        disabled={room.archived}
        placeholder={room.archived ? 'This room is archived: read-only' : `Message ${where}`}
        aria-describedby="composer-help composer-error"
        aria-invalid={error ? true : undefined}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
          if (e.target.value.trim()) client.notifyTyping(room.name);
        }}
        onKeyDown={onKeyDown}
        autoFocus
      />
      <button type="submit" className="send" disabled={room.archived || text.trim() === ''}>
        Send
      </button>
      <p id="composer-help" className="composer-help">
        {room.archived ? (
          <span className="archived-note">This room is archived: it can be read, but takes no new messages.</span>
        ) : (
          <span className="keys">Enter to send, Shift+Enter for a new line</span>
        )}
        {nearLimit && (
          <span className={bytes > limits.maxTextBytes ? 'over' : undefined}>
            {' '}
            · {bytes} / {limits.maxTextBytes} bytes
          </span>
        )}
      </p>
      <p id="composer-error" className="error" role="alert">
        {error ?? ''}
      </p>
    </form>
  );
}
