// Splitting message text into plain text and links. Only http and https
// URLs become links; everything else stays text, and all of it is rendered
// by React as text, never as HTML.

export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string };

const urlPattern = /\bhttps?:\/\/[^\s<>"'`]+/giu;

// Trailing punctuation usually ends the sentence, not the URL.
const trailing = /[.,;:!?'"\u2019\u201d*_~]+$/u;

function trimURL(raw: string): string {
  let url = raw.replace(trailing, '');
  // Keep a closing bracket only when the URL opened one (Wikipedia links).
  for (const [open, close] of [
    ['(', ')'],
    ['[', ']'],
    ['{', '}'],
  ] as const) {
    while (url.endsWith(close) && count(url, close) > count(url, open)) {
      url = url.slice(0, -1).replace(trailing, '');
    }
  }
  return url;
}

function count(s: string, c: string): number {
  return s.split(c).length - 1;
}

function safeHref(s: string): string | null {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

/** linkify splits text into text and link segments, in order. */
export function linkify(text: string): Segment[] {
  const out: Segment[] = [];
  let last = 0;
  for (const m of text.matchAll(urlPattern)) {
    const start = m.index;
    const url = trimURL(m[0]);
    const href = safeHref(url);
    if (!href || url.length <= 'https://'.length) continue;
    if (start > last) out.push({ kind: 'text', text: text.slice(last, start) });
    out.push({ kind: 'link', text: url, href });
    last = start + url.length;
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) });
  return out;
}
