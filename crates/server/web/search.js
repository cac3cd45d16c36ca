// Search across conversations, with the matching words highlighted and a jump to the message.

import { api, explain } from './api.js';
import { h, replace, highlighted } from './dom.js';
import { displayName, shortTime, queryWords } from './format.js';

export function renderSearch(main, app, initial) {
  const input = h('input', { id: 'search-q', type: 'search', minlength: 2, maxlength: 200, value: initial, autocomplete: 'off' });
  const results = h('ol', { class: 'search-results', id: 'search-results' });
  const summary = h('p', { role: 'status', class: 'hint' });
  const error = h('div', { class: 'error', role: 'alert' });
  let destroyed = false;

  async function run(q) {
    replace(error);
    if (q.trim().length < 2) {
      replace(summary, 'Type at least 2 characters.');
      replace(results);
      return;
    }
    try {
      const found = await api('GET', `/api/messages/search?q=${encodeURIComponent(q)}&page_size=50`);
      if (destroyed) return;
      const words = queryWords(q);
      replace(summary, found.total === 1 ? '1 message found.' : `${found.total} messages found.`);
      replace(
        results,
        found.messages.map((m) => {
          const mine = m.sender_id === app.me.id;
          const otherId = mine ? m.recipient_id : m.sender_id;
          const other = mine
            ? { username: m.recipient_username, first_name: m.recipient_first_name, last_name: m.recipient_last_name }
            : { username: m.sender_username, first_name: m.sender_first_name, last_name: m.sender_last_name };
          const target = `#/c/${otherId}${m.booking_id ? `/b/${m.booking_id}` : ''}?m=${m.id}`;
          return h(
            'li',
            null,
            h(
              'a',
              { href: target, class: 'result', 'data-message': m.id },
              h('span', { class: 'result-top' }, h('span', { class: 'thread-name' }, mine ? `You → ${displayName(other)}` : displayName(other)), h('time', { datetime: m.created_at, class: 'time' }, shortTime(m.created_at))),
              m.subject ? h('span', { class: 'subject' }, highlighted(m.subject, words)) : null,
              h('span', { class: 'body' }, highlighted(m.message, words)),
            ),
          );
        }),
      );
    } catch (err) {
      replace(error, explain(err));
    }
  }

  replace(
    main,
    h(
      'div',
      { class: 'page' },
      h('h1', null, 'Search messages'),
      h(
        'form',
        {
          class: 'panel',
          role: 'search',
          onsubmit: (e) => {
            e.preventDefault();
            history.replaceState(null, '', `#/search?q=${encodeURIComponent(input.value)}`);
            run(input.value);
          },
        },
        h('label', { for: 'search-q' }, 'Words to find'),
        h('div', { class: 'inline' }, input, h('button', { type: 'submit', class: 'primary' }, 'Search')),
      ),
      error,
      summary,
      results,
    ),
  );
  if (initial) run(initial);
  input.focus();
  return {
    destroy() {
      destroyed = true;
    },
  };
}
