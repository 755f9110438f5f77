import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatClient, IDENTITY_KEY } from './connection';
import { App } from './App';
import { ChatContext } from './useChat';
import { THEME_KEY, applyTheme, loadTheme, localThemeStorage } from './theme';
import './styles.css';

applyTheme(document, loadTheme(localThemeStorage()));

const client = new ChatClient();
client.start();
// Back online: try at once rather than waiting out the backoff.
window.addEventListener('online', () => client.reconnectNow());
// Another tab signed in: a tab on the sign-in screen follows it. (The
// event fires in every tab of the origin but the one that wrote; a key of
// null means the storage was cleared.)
window.addEventListener('storage', (e) => {
  if (e.key === IDENTITY_KEY || e.key === null) client.identityChanged();
  // Another tab chose a theme: this one shows it too.
  if (e.key === THEME_KEY || e.key === null) applyTheme(document, loadTheme(localThemeStorage()));
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ChatContext.Provider value={client}>
      <App />
    </ChatContext.Provider>
  </StrictMode>,
);
