import type { RoomState } from '../connection';

/** OnlineList shows who is online in the room. */
export function OnlineList({ room, me }: { room: RoomState; me: string }) {
  return (
    <aside className="people" aria-labelledby="people-title">
      <h2 id="people-title">
        Online <span className="count">{room.online.length}</span>
      </h2>
      <ul className="people-list">
        {room.online.map((nick) => (
          <li key={nick}>
            <span className="dot" aria-hidden="true" />
            <span className="nick" dir="auto">{nick}</span>
            {nick === me && <span className="you"> (you)</span>}
          </li>
        ))}
      </ul>
    </aside>
  );
}
