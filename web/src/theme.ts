// The colour theme: the system's (light or dark, as the system says), or
// one the person chose, which every tab of the origin remembers in
// localStorage. A chosen theme is a data-theme attribute on <html>, which
// styles.css reads: the page's Content-Security-Policy allows no inline
// style, and needs none.

export type Theme = 'system' | 'light' | 'dark';

export const THEMES: readonly Theme[] = ['system', 'light', 'dark'];

/** THEME_KEY names the chosen theme in localStorage; the page listens for changes to it. */
export const THEME_KEY = 'parley.theme';

/** ThemeStorage is the part of Web Storage the theme uses. */
export type ThemeStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** ThemeDocument is the part of the document a theme is applied to. */
export interface ThemeDocument {
  documentElement: Pick<Element, 'setAttribute' | 'removeAttribute'>;
  querySelectorAll(selectors: 'meta[name="theme-color"]'): Iterable<Pick<Element, 'getAttribute' | 'setAttribute'>>;
}

function isTheme(v: unknown): v is Theme {
  return THEMES.includes(v as Theme);
}

/** loadTheme returns the theme chosen, or "system" when none is, or storage is unreadable. */
export function loadTheme(storage: ThemeStorage | null): Theme {
  try {
    const v = storage?.getItem(THEME_KEY);
    return isTheme(v) ? v : 'system';
  } catch {
    return 'system';
  }
}

/** saveTheme remembers theme; "system" is remembered as no choice. */
export function saveTheme(storage: ThemeStorage | null, theme: Theme): void {
  try {
    if (theme === 'system') storage?.removeItem(THEME_KEY);
    else storage?.setItem(THEME_KEY, theme);
  } catch {
    // Without storage the choice lasts as long as the page.
  }
}

/**
 * applyTheme shows theme: it sets or removes data-theme on <html>, and
 * points the browser's theme colour (the meta elements of index.html, one
 * for each system setting) at the theme's.
 */
export function applyTheme(doc: ThemeDocument, theme: Theme): void {
  if (theme === 'system') doc.documentElement.removeAttribute('data-theme');
  else doc.documentElement.setAttribute('data-theme', theme);
  for (const meta of doc.querySelectorAll('meta[name="theme-color"]')) {
    const scheme = meta.getAttribute('data-scheme');
    if (scheme !== 'light' && scheme !== 'dark') continue;
    meta.setAttribute('media', theme === 'system' ? `(prefers-color-scheme: ${scheme})` : theme === scheme ? 'all' : 'not all');
  }
}

/** localThemeStorage returns localStorage, or null where storage is disabled (reading it then throws). */
export function localThemeStorage(): ThemeStorage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}
