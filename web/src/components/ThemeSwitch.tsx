import { useEffect, useState } from 'react';
import { THEME_KEY, applyTheme, loadTheme, localThemeStorage, saveTheme, type Theme } from '../theme';

const labels: Record<Theme, string> = { system: 'System', light: 'Light', dark: 'Dark' };

/** ThemeSwitch chooses the colour theme: the system's, light or dark. Every tab follows the choice. */
export function ThemeSwitch() {
  const [theme, setTheme] = useState<Theme>(() => loadTheme(localThemeStorage()));

  useEffect(() => {
    // Another tab chose (main.tsx applies it to the page): show its choice.
    const onStorage = (e: StorageEvent) => {
      if (e.key === THEME_KEY || e.key === null) setTheme(loadTheme(localThemeStorage()));
    };
    window.addEventListener('storage', onStorage);
    return () => window.removeEventListener('storage', onStorage);
  }, []);

  function choose(t: Theme) {
    setTheme(t);
    saveTheme(localThemeStorage(), t);
    applyTheme(document, t);
  }

  return (
    <label className="theme-switch">
      <span aria-hidden="true">◐</span>
      <span className="sr-only">Theme</span>
      <select value={theme} onChange={(e) => choose(e.target.value as Theme)}>
        {(Object.keys(labels) as Theme[]).map((t) => (
          <option key={t} value={t}>
            {labels[t]}
          </option>
        ))}
      </select>
    </label>
  );
}
