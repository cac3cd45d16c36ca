// The application shell: boot, the hash router, the header, shared state (who I am, the thread
// list, notifications) and the live event stream, which it hands to the open view.

import { api, setCsrfToken, whenUnauthorized } from './api.js';
import { h, replace, announce } from './dom.js';
import { Live } from './live.js';
import { displayName, notificationText, roleLabel } from './format.js';
import { renderLogin, renderRegister } from './auth.js';
import { renderChats } from './chat.js';
import { renderPeople } from './people.js';
import { renderSearch } from './search.js';
import { renderNotifications } from './notifications.js';
import { renderSettings } from './settings.js';
import { renderAdmin } from './admin.js';

const main = document.getElementById('main');
const bar = document.getElementById('bar');
const statusLine = document.getElementById('status');

export const app = {
  me: null,
  config: {},
  threads: [],
  people: new Map(),
  // Messages of mine a device of the recipient received, as delivery receipts came in (history
  // answers carry read marks but not delivery).
  delivered: new Set(),
  notifications: [],
  live: null,
  view: null,
  connection: 'offline',

  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },

  /** Reloads the thread list (one request) and tells the open view. */
  async refreshThreads() {
    try {
      this.threads = await api('GET', '/api/messages/threads?limit=200');
    } catch {
      return;
    }
    for (const t of this.threads) {
      this.people.set(t.other_user_id, {
        id: t.other_user_id,
        username: t.other_user_username,
        first_name: t.other_user_first_name,
        last_name: t.other_user_last_name,
        role: t.other_user_role,
      });
    }
    updateBadges();
    if (this.view && this.view.threadsChanged) this.view.threadsChanged();
  },

  scheduleThreads() {
    clearTimeout(this.threadTimer);
    this.threadTimer = setTimeout(() => this.refreshThreads(), 250);
  },

  /** Marks the notifications about a conversation read (it was opened). */
  seen(otherId) {
    let changed = false;
    for (const n of this.notifications) {
      if (n.other_id === otherId && !n.read) {
        n.read = true;
        changed = true;
      }
    }
    if (changed) updateBadges();
  },

  unreadNotifications() {
    return this.notifications.filter((n) => !n.read).length;
  },

  updateBadges() {
    updateBadges();
  },

  async logout() {
    try {
      await api('POST', '/api/auth/logout', undefined, { quiet: true });
    } catch {
      // The session may already be gone; the login screen follows either way.
    }
    signedOut();
  },

  signedOut(message) {
    signedOut(message);
  },
};

function updateBadges() {
  const unread = app.threads.reduce((sum, t) => sum + (t.unread_count || 0), 0);
  document.title = unread > 0 ? `(${unread}) Messages` : 'Messages';
  const badge = document.getElementById('notif-badge');
  if (badge) {
    const n = app.unreadNotifications();
    replace(badge, n > 0 ? String(n) : '', h('span', { class: 'visually-hidden' }, ' new'));
    badge.hidden = n === 0;
  }
  const chatsBadge = document.getElementById('chats-badge');
  if (chatsBadge) {
    replace(chatsBadge, unread > 0 ? String(unread) : '', h('span', { class: 'visually-hidden' }, ' unread'));
    chatsBadge.hidden = unread === 0;
  }
}

function setConnection(status) {
  app.connection = status;
  if (status === 'reconnecting') {
    replace(statusLine, h('span', { class: 'reconnecting' }, 'Reconnecting…'));
    statusLine.hidden = false;
  } else {
    replace(statusLine);
    statusLine.hidden = true;
  }
}

function renderBar() {
  const me = app.me;
  const link = (hash, label, extra) => h('a', { href: hash, class: 'nav-link', 'data-nav': hash }, label, extra);
  replace(
    bar,
    h('a', { href: '#/', class: 'brand' }, 'Messages'),
    h(
      'nav',
      { 'aria-label': 'Main' },
      link('#/', 'Chats', h('span', { class: 'badge', id: 'chats-badge', hidden: true })),
      link('#/new', 'New'),
      link('#/search', 'Search'),
      link('#/notifications', 'Alerts', h('span', { class: 'badge', id: 'notif-badge', hidden: true })),
      link('#/settings', 'Settings'),
      me.role === 'admin' ? link('#/admin', 'Admin') : null,
    ),
    h(
      'div',
      { class: 'whoami' },
      h('span', { class: 'me-name' }, displayName(me)),
      h('span', { class: 'role' }, roleLabel(me.role)),
      h('button', { type: 'button', class: 'link-button', onclick: () => app.logout() }, 'Log out'),
    ),
  );
  bar.hidden = false;
  updateBadges();
}

function markCurrentNav(hash) {
  for (const a of bar.querySelectorAll('[data-nav]')) {
    const target = a.getAttribute('data-nav');
    const current = target === '#/' ? hash === '#/' || hash.startsWith('#/c/') : hash.startsWith(target);
    if (current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function onEvent(frame) {
  switch (frame.type) {
    case 'new_message': {
      // Any device of mine that receives a message tells the sender it was delivered.
      app.live.send({ type: 'delivery_receipt', message_id: frame.message_id });
      const sender = displayName(frame.sender);
      app.people.set(frame.sender.id, frame.sender);
      const visible = app.view && app.view.isShowing && app.view.isShowing(frame.sender_id, frame.booking_id);
      app.notifications.unshift({
        id: frame.message_id,
        other_id: frame.sender_id,
        booking_id: frame.booking_id,
        text: notificationText(sender, frame.subject, frame.message),
        at: frame.created_at,
        read: Boolean(visible),
      });
      if (!visible) announce(notificationText(sender, frame.subject, frame.message));
      app.scheduleThreads();
      break;
    }
    case 'message_sent':
      if (frame.recipient) app.people.set(frame.recipient.id, frame.recipient);
      app.scheduleThreads();
      break;
    case 'delivery_receipt':
      app.delivered.add(frame.message_id);
      break;
    case 'message_deleted':
    case 'message_edited':
    case 'thread_read':
    case 'message_read':
      app.scheduleThreads();
      break;
    default:
      break;
  }
  if (app.view && app.view.onEvent) app.view.onEvent(frame);
  updateBadges();
}

async function loadNotifications() {
  try {
    const inbox = await api('GET', '/api/messages/inbox?unread_only=true&limit=50');
    app.notifications = inbox.conversations
      .filter((c) => c.last_sender_id !== app.me.id)
      .map((c) => ({
        id: c.last_message_id,
        other_id: c.other_user_id,
        booking_id: c.booking_id,
        text: notificationText(app.people.has(c.other_user_id) ? displayName(app.people.get(c.other_user_id)) : c.with_user, c.subject, c.preview),
        at: c.last_message_at,
        read: false,
      }));
  } catch {
    app.notifications = [];
  }
}

async function signedIn() {
  app.me = await api('GET', '/api/me');
  app.config = { editWindowSeconds: app.me.edit_window_seconds || 900 };
  renderBar();
  app.live = new Live({
    onEvent,
    onStatus: setConnection,
    onLoggedOut: () => signedOut('You have been signed out.'),
    onResync: () => {
      app.refreshThreads();
      if (app.view && app.view.reload) app.view.reload();
    },
  });
  app.live.start();
  await app.refreshThreads();
  await loadNotifications();
  updateBadges();
}

function signedOut(message) {
  if (app.live) app.live.stop();
  app.live = null;
  app.me = null;
  app.threads = [];
  app.notifications = [];
  setCsrfToken(null);
  bar.hidden = true;
  replace(bar);
  setConnection('online');
  document.title = 'Messages';
  app.flash = message || null;
  if (location.hash === '#/login') route();
  else location.hash = '#/login';
}

whenUnauthorized(() => {
  if (app.me) signedOut('Your session has ended. Please log in again.');
});

async function route() {
  const hash = location.hash || '#/';
  if (app.view && app.view.destroy) app.view.destroy();
  app.view = null;
  if (!app.me) {
    if (hash === '#/register') app.view = renderRegister(main, onLoggedIn);
    else app.view = renderLogin(main, onLoggedIn, app.flash);
    app.flash = null;
    return;
  }
  if (hash === '#/login' || hash === '#/register') {
    location.hash = '#/';
    return;
  }
  markCurrentNav(hash);
  const [path, query] = hash.slice(1).split('?');
  const params = new URLSearchParams(query || '');
  const parts = path.split('/').filter(Boolean);
  if (parts.length === 0) app.view = renderChats(main, app, null);
  else if (parts[0] === 'c' && parts[1]) {
    app.view = renderChats(main, app, {
      otherId: Number(parts[1]),
      bookingId: parts[2] === 'b' && parts[3] ? Number(parts[3]) : null,
      focusMessage: params.get('m') ? Number(params.get('m')) : null,
    });
  } else if (parts[0] === 'new') app.view = renderPeople(main, app);
  else if (parts[0] === 'search') app.view = renderSearch(main, app, params.get('q') || '');
  else if (parts[0] === 'notifications') app.view = renderNotifications(main, app);
  else if (parts[0] === 'settings') app.view = renderSettings(main, app);
  else if (parts[0] === 'admin' && app.me.role === 'admin') app.view = renderAdmin(main, app);
  else app.view = renderChats(main, app, null);
}

async function onLoggedIn(csrfToken) {
  setCsrfToken(csrfToken);
  await signedIn();
  if (location.hash === '#/login' || location.hash === '#/register' || !location.hash) location.hash = '#/';
  else route();
}

async function boot() {
  window.addEventListener('hashchange', route);
  try {
    const { csrf_token: token } = await api('GET', '/api/csrf-token', undefined, { quiet: true });
    setCsrfToken(token);
    await signedIn();
  } catch {
    app.me = null;
  }
  route();
  document.body.dataset.ready = 'true';
}

boot();
