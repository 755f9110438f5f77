import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ChatClient, ChatState } from './connection';

/** ChatContext carries the page's one ChatClient to the components. */
export const ChatContext = createContext<ChatClient | null>(null);

export function useClient(): ChatClient {
  const c = useContext(ChatContext);
  if (!c) throw new Error('useClient outside ChatContext');
  return c;
}

/** useChatState returns the client's current state and re-renders on change. */
export function useChatState(): ChatState {
  const c = useClient();
  return useSyncExternalStore(c.subscribe, c.getState);
}
