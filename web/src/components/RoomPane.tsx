import { useState } from 'react';
import { markBidiControls } from '../bidi';
import type { RoomState } from '../connection';
import { typingText } from '../format';
import { Composer } from './Composer';
import { MessageList } from './MessageList';
import { Members } from './RoomDialogs';

/** RoomPane is the room in view: its title and topic, messages, typing line and message box, and a private or direct room's members. */
export function RoomPane({ room, inert }: { room: RoomState; inert?: boolean }) {
  const [members, setMembers] = useState(false);
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
        <span className="room-meta">{room.onlineCount.toLocaleString()} online</span>
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
    </main>
  );
}
