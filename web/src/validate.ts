// Checks the server also makes (package parley: ValidateNick,
// ValidateRoomName, ValidateText), so a person hears about a mistake before
// anything is sent. The messages are the server's.

export const MAX_NICK_LEN = 32;
export const MAX_ROOM_LEN = 64;
export const MAX_TEXT_BYTES = 4096;

// Go's unicode.IsPrint (letters, marks, numbers, punctuation, symbols and the
// ASCII space), and a zero-width joiner between two emoji (👩‍💻, 🏳️‍🌈): after
// a symbol, a skin tone or the emoji selector, before a symbol.
const printable = /^(?:[\p{L}\p{M}\p{N}\p{P}\p{S} ]|(?<=[\p{So}\p{Sk}\uFE0F])\u200D(?=\p{So}))*$/u;
// Go's strings.TrimSpace trims Unicode white space.
const edgeSpace = /^\s|\s$/u;

function runeCount(s: string): number {
  return [...s].length;
}

/** validateNick returns why nick cannot be a nickname, or null. */
export function validateNick(nick: string): string | null {
  if (nick === '') return 'Nickname is required.';
  if (runeCount(nick) > MAX_NICK_LEN) return `Nickname is longer than ${MAX_NICK_LEN} characters.`;
  if (edgeSpace.test(nick)) return 'Nickname must not start or end with a space.';
  if (nick.includes('  ')) return 'Nickname must not contain two spaces in a row.';
  if (!printable.test(nick)) return 'Nickname may contain only printable characters.';
  return null;
}

/** validateRoomName returns why name cannot name a room, or null. */
export function validateRoomName(name: string): string | null {
  if (name === '') return 'Room name is required.';
  if (runeCount(name) > MAX_ROOM_LEN) return `Room name is longer than ${MAX_ROOM_LEN} characters.`;
  if (edgeSpace.test(name)) return 'Room name must not start or end with a space.';
  if (!printable.test(name)) return 'Room name may contain only printable characters.';
  return null;
}

/** textBytes returns the length of s in bytes of UTF-8. */
export function textBytes(s: string): number {
  return new TextEncoder().encode(s).length;
}

/** validateText returns why text cannot be sent, or null. */
export function validateText(text: string, maxBytes = MAX_TEXT_BYTES): string | null {
  if (text.trim() === '') return 'Message text is empty.';
  if (textBytes(text) > maxBytes) return `Message text is longer than ${maxBytes} bytes.`;
  return null;
}
