import { useState } from 'react';
import { markBidiControls } from '../bidi';
import type { RoomState } from '../connection';
import { typingText } from '../format';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { Members, RoomDetails } from './RoomDialogs';

/**
 * RoomPane is the room in view: its title and topic (and whether it is
 * archived), messages, typing line and message box, its details (description,
 * and what its owner or an admin may change), and a private or direct room's
 * members.
 */
export function RoomPane({ room, inert }: { room: RoomState; inert?: boolean }) {
  const [members, setMembers] = useState(false);
  const [details, setDetails] = useState(false);
  return (
    <main className="room" aria-labelledby="room-title" inert={inert}>
      <header className="room-header">
        <h1 id="room-title">
          {room.kind === 'private' && <span className="sr-only">Private: </span>}
          <span className="hash" aria-hidden="true">
            {room.kind === 'private' ? '🔒' : room.kind === 'direct' ? '@' : '#'}
          </span>
          <span dir="auto">{markBidiControls(room.label)}</span>
        </h1>
        {room.topic && (
          <span className="room-topic" dir="auto">
            {markBidiControls(room.topic)}
          </span>
        )}
        {room.archived && (
          <span className="archived-badge" data-testid="archived">
            Archived: read-only
          </span>
        )}
        <span className="room-meta">{room.onlineCount.toLocaleString()} online</span>
        <button type="button" className="quiet" aria-haspopup="dialog" onClick={() => setDetails(true)}>
          About
        </button>
        {room.kind !== 'public' && (
          <button type="button" className="quiet" aria-haspopup="dialog" onClick={() => setMembers(true)}>
            Members
          </button>
        )}
      </header>
      <MessageList room={room} />
      <div className="typing" aria-hidden={room.typing.length === 0}>
        {typingText(room.typing)}
      </div>
      <Composer room={room} />
      {members && <Members room={room} onClose={() => setMembers(false)} />}
      {details && <RoomDetails room={room} onClose={() => setDetails(false)} />}
    </main>
  );
}
