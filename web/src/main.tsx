import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { ChatClient } from './connection';
import { App } from './App';
import { ChatContext } from './useChat';
import './styles.css';

const client = new ChatClient();
client.start();
// Back online: try at once rather than waiting out the backoff.
window.addEventListener('online', () => client.reconnectNow());

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ChatContext.Provider value={client}>
      <App />
    </ChatContext.Provider>
  </StrictMode>,
);
