import { useChatState, useClient } from '../useChat';

/** ConnectionBanner says when the connection is down and what is being done about it. */
export function ConnectionBanner({ inert }: { inert?: boolean }) {
  const { status } = useChatState();
  const client = useClient();
  if (status === 'online' || status === 'signed-out' || status === 'signing-in') {
    return <div className="banner-slot" role="status" aria-live="polite" inert={inert} />;
  }
  const down = status === 'disconnected';
  return (
    <div className="banner-slot" role="status" aria-live="polite" inert={inert}>
      <div className={`banner ${down ? 'down' : 'reconnecting'}`}>
        <span className="spinner" aria-hidden="true" hidden={down} />
        <span>{down ? 'Disconnected from the server.' : 'Reconnecting…'}</span>
        <span className="banner-note">{down ? '' : 'Messages you write are kept and sent when the connection returns.'}</span>
        <button type="button" className="quiet" onClick={() => client.reconnectNow()}>
          {down ? 'Reconnect' : 'Try now'}
        </button>
      </div>
    </div>
  );
}
