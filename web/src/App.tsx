import { useEffect, useRef, useState, useSyncExternalStore } from 'react';
import { useChatState, useClient } from './useChat';
import { SignIn } from './components/SignIn';
import { Sidebar } from './components/Sidebar';
import { OnlineList } from './components/OnlineList';
import { RoomPane } from './components/RoomPane';
import { ConnectionBanner } from './components/ConnectionBanner';
import { ThemeSwitch } from './components/ThemeSwitch';
import { AccountDialog } from './components/AccountDialog';

/** PHONE is the width below which rooms and people move into a drawer (styles.css says the same). */
const PHONE = '(max-width: 45rem)';

/** useMedia reports whether the media query matches, following changes. */
function useMedia(query: string): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const m = window.matchMedia(query);
      m.addEventListener('change', onChange);
      return () => m.removeEventListener('change', onChange);
    },
    () => window.matchMedia(query).matches,
  );
}

/** focusables lists what Tab stops at inside el, in order. */
function focusables(el: HTMLElement): HTMLElement[] {
  return [...el.querySelectorAll<HTMLElement>('button, input, select, textarea, a[href], [tabindex]:not([tabindex="-1"])')].filter(
    (e) => !e.hasAttribute('disabled') && e.getClientRects().length > 0,
  );
}

export function App() {
  const state = useChatState();
  const client = useClient();
  const [navOpen, setNavOpen] = useState(false);
  const [accountOpen, setAccountOpen] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const accountButton = useRef<HTMLButtonElement>(null);
  const drawer = useRef<HTMLDivElement>(null);
  const phone = useMedia(PHONE);
  // On a phone the open drawer covers the room, as a dialog: everything
  // else is inert (no Tab stop, not read) until it closes.
  const modal = navOpen && phone;

  const room = state.rooms.find((r) => r.name === state.current) ?? null;
  const unreadElsewhere = state.rooms.reduce((n, r) => (r.name === state.current ? n : n + r.unread), 0);

  useEffect(() => {
    const unread = state.rooms.reduce((n, r) => n + r.unread, 0);
    const where = room ? (room.kind === 'public' ? `#${room.name}` : room.label) : '';
    document.title = (unread ? `(${unread}) ` : '') + (where && state.nick ? `${where} · Parley` : 'Parley');
  }, [state.rooms, room, state.nick]);

  // The room in view is read while the page is visible and has focus.
  useEffect(() => {
    const on = () => client.attentionChanged();
    window.addEventListener('focus', on);
    document.addEventListener('visibilitychange', on);
    return () => {
      window.removeEventListener('focus', on);
      document.removeEventListener('visibilitychange', on);
    };
  }, [client]);

  // Signed out (here or elsewhere) with the account screen open: it is not
  // open for whoever signs in next.
  useEffect(() => {
    if (!state.nick) setAccountOpen(false);
  }, [state.nick]);

  useEffect(() => {
    if (!modal) return;
    // Focus goes into the drawer, on the room in view; Escape closes it;
    // Tab and Shift+Tab go round inside it.
    const el = drawer.current;
    (el?.querySelector<HTMLElement>('[aria-current="page"]') ?? (el && focusables(el)[0]))?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setNavOpen(false);
      } else if (e.key === 'Tab' && el) {
        const stops = focusables(el);
        const first = stops[0];
        const last = stops[stops.length - 1];
        if (!first || !last) return;
        const at = document.activeElement;
        if (e.shiftKey ? at === first || !el.contains(at) : at === last || !el.contains(at)) {
          e.preventDefault();
          (e.shiftKey ? last : first).focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => {
      window.removeEventListener('keydown', onKey);
      // Closed: focus goes back to the button that opened it, unless
      // something outside took it already (the message box of a room
      // chosen in the drawer).
      const at = document.activeElement;
      if (!at || at === document.body || el?.contains(at)) toggle.current?.focus();
    };
  }, [modal]);

  if (!state.nick || state.status === 'signed-out') {
    return <SignIn />;
  }

  function closeAccount() {
    setAccountOpen(false);
    accountButton.current?.focus();
  }

  return (
    <div className="app" data-nav-open={navOpen || undefined}>
      <a className="skip-link" href="#composer" inert={modal}>
        Skip to message box
      </a>
      <header className="topbar" inert={modal}>
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
        <button
          ref={accountButton}
          type="button"
          className="whoami"
          aria-haspopup="dialog"
          title={state.kind === 'account' ? 'Your account, sessions and tokens' : 'Your guest session'}
          onClick={() => setAccountOpen(true)}
        >
          <span className="whoami-label">Signed in as </span>
          <strong dir="auto">{state.nick}</strong>
          <span className="sr-only">: account</span>
        </button>
        <ThemeSwitch />
        <button type="button" className="quiet" onClick={() => client.signOut()}>
          Sign out
        </button>
      </header>
      <ConnectionBanner inert={modal} />
      <div className="layout">
        <div
          id="drawer"
          ref={drawer}
          className="drawer"
          role={modal ? 'dialog' : undefined}
          aria-modal={modal || undefined}
          aria-label={modal ? 'Rooms and people online' : undefined}
        >
          <button type="button" className="quiet drawer-close" onClick={() => setNavOpen(false)}>
            Close
          </button>
          <Sidebar onNavigate={() => setNavOpen(false)} />
          {room && <OnlineList room={room} me={state.nick} />}
        </div>
        <div className="scrim" aria-hidden="true" onClick={() => setNavOpen(false)} />
        {room ? (
          <RoomPane key={room.name} room={room} inert={modal} />
        ) : (
          <main className="room empty" inert={modal}>
            Join a room to start.
          </main>
        )}
      </div>
      {state.notice && (
        <div className="toast" role="alert" inert={modal}>
          <span>{state.notice}</span>
          <button type="button" className="quiet" onClick={() => client.clearNotice()}>
            Dismiss
          </button>
        </div>
      )}
      {accountOpen && <AccountDialog onClose={closeAccount} />}
      <div className="sr-only" aria-live="polite" aria-atomic="true">
        {state.announcement?.text ?? ''}
      </div>
    </div>
  );
}
