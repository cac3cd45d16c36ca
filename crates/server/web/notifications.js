// Notifications, in System B's words: "New message from {sender}: {subject or first 50
// characters}". Unread conversations when the page opened, then every message that arrives.

import { h, replace } from './dom.js';
import { shortTime } from './format.js';

export function renderNotifications(main, app) {
  const list = h('ul', { class: 'notifications', id: 'notification-list' });
  function draw() {
    if (app.notifications.length === 0) {
      replace(list, h('li', { class: 'empty' }, 'No notifications.'));
      return;
    }
    replace(
      list,
      app.notifications.map((n) =>
        h(
          'li',
          { class: n.read ? 'notification' : 'notification unread' },
          h(
            'a',
            { href: `#/c/${n.other_id}${n.booking_id ? `/b/${n.booking_id}` : ''}?m=${n.id}` },
            n.read ? null : h('span', { class: 'visually-hidden' }, 'Unread: '),
            h('span', { class: 'notification-text' }, n.text),
            h('time', { datetime: n.at, class: 'time' }, shortTime(n.at)),
          ),
        ),
      ),
    );
  }
  replace(
    main,
    h(
      'div',
      { class: 'page' },
      h('h1', null, 'Notifications'),
      h(
        'button',
        {
          type: 'button',
          class: 'small',
          onclick: () => {
            for (const n of app.notifications) n.read = true;
            app.updateBadges();
            draw();
          },
        },
        'Mark all as seen',
      ),
      list,
    ),
  );
  draw();
  return {
    onEvent(frame) {
      if (frame.type === 'new_message') draw();
    },
  };
}
