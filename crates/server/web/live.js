// The one owner of the WebSocket and its `since` cursor. Every stored event carries `seq`; after
// a drop (network, laptop asleep, server restart) the socket reconnects with `since=<last seq>`
// and the server replays exactly what was missed, so nothing is reloaded and nothing doubles.

const PING_EVERY_MS = 25000;
const SILENCE_LIMIT_MS = 70000;
const MAX_BACKOFF_MS = 30000;

export class Live {
  constructor({ onEvent, onStatus, onLoggedOut, onResync }) {
    this.onEvent = onEvent;
    this.onStatus = onStatus;
    this.onLoggedOut = onLoggedOut;
    this.onResync = onResync;
    this.since = null;
    this.socket = null;
    this.stopped = true;
    this.backoff = 1000;
    this.timer = null;
    this.pinger = null;
    this.lastHeard = 0;
    this.offline = false;
    this.goOffline = () => {
      // The network is gone: close now rather than wait for a timeout, and wait for `online`.
      this.offline = true;
      this.onStatus('reconnecting');
      if (this.socket) this.socket.close(4000, 'offline');
    };
    this.goOnline = () => {
      this.offline = false;
      if (!this.stopped && !this.socket) this.connect();
    };
  }

  start() {
    this.stopped = false;
    window.addEventListener('offline', this.goOffline);
    window.addEventListener('online', this.goOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    window.removeEventListener('offline', this.goOffline);
    window.removeEventListener('online', this.goOnline);
    clearTimeout(this.timer);
    clearInterval(this.pinger);
    if (this.socket) this.socket.close(1000, 'bye');
    this.socket = null;
    this.since = null;
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  connect() {
    clearTimeout(this.timer);
    if (this.stopped || this.offline) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const query = this.since === null ? '' : `?since=${this.since}`;
    const socket = new WebSocket(`${scheme}://${location.host}/ws${query}`);
    this.socket = socket;
    this.lastHeard = Date.now();
    socket.addEventListener('message', (e) => {
      if (socket !== this.socket) return;
      this.lastHeard = Date.now();
      let frame;
      try {
        frame = JSON.parse(e.data);
      } catch {
        return;
      }
      this.receive(frame);
    });
    socket.addEventListener('close', (e) => {
      if (socket !== this.socket) return;
      this.socket = null;
      clearInterval(this.pinger);
      if (this.stopped) return;
      if (e.code === 1008) {
        // Bad credentials: the session ended (logout elsewhere, expiry, or deactivation).
        this.stopped = true;
        this.onLoggedOut();
        return;
      }
      this.onStatus('reconnecting');
      if (!this.offline) {
        this.timer = setTimeout(() => this.connect(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      }
    });
    clearInterval(this.pinger);
    this.pinger = setInterval(() => {
      if (Date.now() - this.lastHeard > SILENCE_LIMIT_MS && this.socket === socket) {
        socket.close(4000, 'silent');
        return;
      }
      this.send({ type: 'ping' });
    }, PING_EVERY_MS);
  }

  receive(frame) {
    switch (frame.type) {
      case 'connected':
        if (this.since === null) this.since = frame.latest_seq;
        this.backoff = 1000;
        this.onStatus('online');
        return;
      case 'resync_required':
        this.since = frame.latest_seq;
        this.onResync();
        return;
      case 'pong':
      case 'token_expired':
        return;
      default:
        break;
    }
    if (typeof frame.seq === 'number') {
      // Replay and live delivery can overlap by design on the server's side of the cursor, never
      // here: anything at or before the cursor was handled already.
      if (this.since !== null && frame.seq <= this.since) return;
      this.since = frame.seq;
    }
    this.onEvent(frame);
  }
}
