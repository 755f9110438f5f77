import type { RoomState } from '../connection';
import { typingText } from '../format';
import { Composer } from './Composer';
import { MessageList } from './MessageList';

/** RoomPane is the room in view: its title, messages, typing line and message box. */
export function RoomPane({ room, inert }: { room: RoomState; inert?: boolean }) {
  return (
    <main className="room" aria-labelledby="room-title" inert={inert}>
      <header className="room-header">
        <h1 id="room-title">
          <span className="hash" aria-hidden="true">
            #
          </span>
          <span dir="auto">{room.name}</span>
        </h1>
        <span className="room-meta">{room.onlineCount.toLocaleString()} online</span>
      </header>
      <MessageList room={room} />
      <div className="typing" aria-hidden={room.typing.length === 0}>
        {typingText(room.typing)}
      </div>
      <Composer room={room} />
    </main>
  );
}
