import { useEffect, useRef, useState } from 'react';
import { useChatState, useClient } from './useChat';
import { SignIn } from './components/SignIn';
import { Sidebar } from './components/Sidebar';
import { OnlineList } from './components/OnlineList';
import { RoomPane } from './components/RoomPane';
import { ConnectionBanner } from './components/ConnectionBanner';
import { ThemeSwitch } from './components/ThemeSwitch';

export function App() {
  const state = useChatState();
  const client = useClient();
  const [navOpen, setNavOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);

  const room = state.rooms.find((r) => r.name === state.current) ?? null;
  const unreadElsewhere = state.rooms.reduce((n, r) => (r.name === state.current ? n : n + r.unread), 0);

  useEffect(() => {
    const unread = state.rooms.reduce((n, r) => n + r.unread, 0);
    document.title = (unread ? `(${unread}) ` : '') + (state.current && state.nick ? `#${state.current} · Parley` : 'Parley');
  }, [state.rooms, state.current, state.nick]);

  useEffect(() => {
    if (!navOpen) return;
    // On a phone the drawer covers the room: take focus into it, and back out on Escape.
    if (toggle.current && getComputedStyle(toggle.current).display !== 'none') {
      document.querySelector<HTMLElement>('#drawer [aria-current="page"]')?.focus();
    }
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setNavOpen(false);
        toggle.current?.focus();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [navOpen]);

  if (!state.nick || state.status === 'signed-out') {
    return <SignIn />;
  }

  return (
    <div className="app" data-nav-open={navOpen || undefined}>
      <a className="skip-link" href="#composer">
        Skip to message box
      </a>
      <header className="topbar">
        <button
          ref={toggle}
          type="button"
          className="nav-toggle"
          aria-expanded={navOpen}
          aria-controls="drawer"
          onClick={() => setNavOpen((o) => !o)}
        >
          <span aria-hidden="true">☰</span> Rooms
          {unreadElsewhere > 0 && (
            <span className="badge" aria-label={`${unreadElsewhere} unread elsewhere`}>
              {unreadElsewhere}
            </span>
          )}
        </button>
        <span className="brand" aria-hidden="true">
          Parley
        </span>
        <span className="whoami">
          <span className="whoami-label">Signed in as </span>
          <strong dir="auto">{state.nick}</strong>
        </span>
        <ThemeSwitch />
        <button type="button" className="quiet" onClick={() => client.signOut()}>
          Sign out
        </button>
      </header>
      <ConnectionBanner />
      <div className="layout">
        <div id="drawer" className="drawer">
          <Sidebar onNavigate={() => setNavOpen(false)} />
          {room && <OnlineList room={room} me={state.nick} />}
        </div>
        <div className="scrim" aria-hidden="true" onClick={() => setNavOpen(false)} />
        {room ? <RoomPane key={room.name} room={room} /> : <main className="room empty">Join a room to start.</main>}
      </div>
      {state.notice && (
        <div className="toast" role="alert">
          <span>{state.notice}</span>
          <button type="button" className="quiet" onClick={() => client.clearNotice()}>
            Dismiss
          </button>
        </div>
      )}
      <div className="sr-only" aria-live="polite" aria-atomic="true">
        {state.announcement?.text ?? ''}
      </div>
    </div>
  );
}
