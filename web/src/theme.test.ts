/// <reference types="node" />
// node:fs reads styles.css; the tests run under Node.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { THEME_KEY, applyTheme, loadTheme, saveTheme, type ThemeDocument, type ThemeStorage } from './theme';

class MemoryStorage implements ThemeStorage {
  m = new Map<string, string>();
  getItem(k: string): string | null {
    return this.m.get(k) ?? null;
  }
  setItem(k: string, v: string): void {
    this.m.set(k, v);
  }
  removeItem(k: string): void {
    this.m.delete(k);
  }
}

const refusing: ThemeStorage = {
  getItem: () => {
    throw new Error('SecurityError');
  },
  setItem: () => {
    throw new Error('QuotaExceededError');
  },
  removeItem: () => {
    throw new Error('SecurityError');
  },
};

/** Attrs is an element reduced to its attributes. */
class Attrs {
  constructor(public attrs: Record<string, string> = {}) {}
  getAttribute(name: string): string | null {
    return this.attrs[name] ?? null;
  }
  setAttribute(name: string, value: string): void {
    this.attrs[name] = value;
  }
  removeAttribute(name: string): void {
    delete this.attrs[name];
  }
}

/** page is index.html's <html> and theme-color metas. */
function page() {
  const html = new Attrs();
  const light = new Attrs({ name: 'theme-color', media: '(prefers-color-scheme: light)', 'data-scheme': 'light' });
  const dark = new Attrs({ name: 'theme-color', media: '(prefers-color-scheme: dark)', 'data-scheme': 'dark' });
  const doc: ThemeDocument = { documentElement: html, querySelectorAll: () => [light, dark] };
  return { doc, html, light, dark };
}

describe('theme', () => {
  it('remembers a chosen theme, and no choice for the system one', () => {
    const s = new MemoryStorage();
    expect(loadTheme(s)).toBe('system');
    saveTheme(s, 'dark');
    expect(s.getItem(THEME_KEY)).toBe('dark');
    expect(loadTheme(s)).toBe('dark');
    saveTheme(s, 'light');
    expect(loadTheme(s)).toBe('light');
    saveTheme(s, 'system');
    expect(s.m.has(THEME_KEY)).toBe(false);
    expect(loadTheme(s)).toBe('system');
  });

  it('takes anything else stored, or storage that refuses, for the system theme', () => {
    const s = new MemoryStorage();
    s.setItem(THEME_KEY, 'solarized');
    expect(loadTheme(s)).toBe('system');
    expect(loadTheme(null)).toBe('system');
    expect(loadTheme(refusing)).toBe('system');
    expect(() => saveTheme(refusing, 'dark')).not.toThrow();
  });

  it('marks <html> with a chosen theme and points the theme colour at it', () => {
    const p = page();
    applyTheme(p.doc, 'dark');
    expect(p.html.attrs).toEqual({ 'data-theme': 'dark' });
    expect([p.light.attrs.media, p.dark.attrs.media]).toEqual(['not all', 'all']);
    applyTheme(p.doc, 'light');
    expect(p.html.attrs).toEqual({ 'data-theme': 'light' });
    expect([p.light.attrs.media, p.dark.attrs.media]).toEqual(['all', 'not all']);
    applyTheme(p.doc, 'system');
    expect(p.html.attrs).toEqual({});
    expect([p.light.attrs.media, p.dark.attrs.media]).toEqual(['(prefers-color-scheme: light)', '(prefers-color-scheme: dark)']);
  });

  it('has one dark palette in styles.css, for the system in dark mode and for the dark theme chosen', () => {
    const css = readFileSync(new URL('./styles.css', import.meta.url), 'utf8');
    const block = (selector: string) => {
      const start = css.indexOf(`${selector} {`);
      expect(start, selector).toBeGreaterThanOrEqual(0);
      const body = css.slice(start + selector.length + 2, css.indexOf('}', start));
      return body
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('--'));
    };
    const system = block(":root:not([data-theme='light'])");
    const chosen = block(":root[data-theme='dark']");
    expect(system.length).toBeGreaterThan(10);
    expect(chosen).toEqual(system);
    // And every colour the light palette sets, the dark one sets too.
    const light = block(':root')
      .filter((l) => /#|%/.test(l))
      .map((l) => l.split(':')[0]);
    expect(system.map((l) => l.split(':')[0])).toEqual(light);
  });
});
