import type { RoomState } from '../connection';

/** OnlineList shows who is online in the room. */
export function OnlineList({ room, me }: { room: RoomState; me: string }) {
  return (
    <aside className="people" aria-labelledby="people-title">
      <h2 id="people-title">
        Online <span className="count">{room.onlineCount}</span>
      </h2>
      {room.large && <p className="people-note">Too many people to list.</p>}
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
