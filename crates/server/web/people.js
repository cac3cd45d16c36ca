// Starting a conversation: the directory lists only the people the contact rules let the caller
// start a conversation with (a student their booked tutors, a clinician their assigned
// patients, an admin anyone). Clinicians also see System B's patient list.

import { api, explain, newClientId } from './api.js';
import { h, replace } from './dom.js';
import { displayName, roleLabel, shortTime } from './format.js';

export function renderPeople(main, app) {
  const input = h('input', { id: 'people-q', type: 'search', autocomplete: 'off', placeholder: 'Name or username' });
  const results = h('ul', { class: 'people-list', id: 'people-results' });
  const error = h('div', { class: 'error', role: 'alert' });
  const patients = h('section', { class: 'panel', hidden: true, 'aria-labelledby': 'patients-title' });
  let timer = null;
  let destroyed = false;

  const open = (person) => {
    app.people.set(person.id, person);
    app.navigate(`#/c/${person.id}`);
  };

  async function search() {
    replace(error);
    try {
      const q = input.value.trim();
      const found = await api('GET', `/api/people${q ? `?q=${encodeURIComponent(q)}` : ''}`);
      if (destroyed) return;
      if (found.people.length === 0) {
        replace(results, h('li', { class: 'empty' }, q ? 'Nobody found.' : emptyText(app.me.role)));
        return;
      }
      replace(
        results,
        found.people.map((p) =>
          h(
            'li',
            { class: 'person' },
            h('span', { class: 'person-name' }, displayName(p)),
            h('span', { class: 'hint' }, `@${p.username}`),
            h('span', { class: 'role' }, roleLabel(p.role)),
            h('button', { type: 'button', class: 'small', onclick: () => open(p) }, 'Message', h('span', { class: 'visually-hidden' }, ` ${displayName(p)}`)),
          ),
        ),
      );
    } catch (err) {
      replace(error, explain(err));
    }
  }

  async function loadPatients() {
    try {
      const list = await api('GET', '/api/clinician/patients');
      if (destroyed) return;
      patients.hidden = false;
      replace(
        patients,
        h('h2', { id: 'patients-title' }, 'Your patients'),
        list.patients.length === 0
          ? h('p', null, 'No patients are assigned to you yet.')
          : h(
              'ul',
              { class: 'people-list', id: 'patient-list' },
              list.patients.map((p) =>
                h(
                  'li',
                  { class: 'person' },
                  h('a', { href: `#/c/${p.id}`, class: 'person-name', onclick: () => app.people.set(p.id, { ...p, role: 'patient' }) }, displayName(p)),
                  h('span', { class: 'preview' }, p.last_message ? `${p.last_message.sender_id === app.me.id ? 'You: ' : ''}${p.last_message.preview}` : 'No messages yet'),
                  p.last_message ? h('time', { datetime: p.last_message.created_at, class: 'time' }, shortTime(p.last_message.created_at)) : null,
                  p.unread_count > 0 ? h('span', { class: 'badge' }, String(p.unread_count), h('span', { class: 'visually-hidden' }, ' unread')) : null,
                ),
              ),
            ),
      );
    } catch (err) {
      replace(error, explain(err));
    }
  }

  // Writing to someone whose user name one knows (System B's send by user name). The answer
  // for an unknown user is the same as for one the rules forbid, so nothing is revealed.
  const toUser = h('input', { id: 'to-username', autocomplete: 'off', required: true });
  const toSubject = h('input', { id: 'to-subject', maxlength: 255 });
  const toMessage = h('textarea', { id: 'to-message', rows: 3, required: true });
  const toError = h('div', { class: 'error', role: 'alert' });
  const toForm = h(
    'form',
    {
      class: 'panel',
      id: 'to-form',
      'aria-labelledby': 'to-title',
      onsubmit: async (e) => {
        e.preventDefault();
        replace(toError);
        try {
          const sent = await api('POST', '/api/messages/send', {
            recipient: toUser.value.trim(),
            subject: toSubject.value.trim() || undefined,
            content: toMessage.value,
            client_message_id: newClientId(),
          });
          await app.refreshThreads();
          const thread = app.threads.find((t) => t.other_user_username.toLowerCase() === sent.recipient.toLowerCase() && t.booking_id === null);
          app.navigate(thread ? `#/c/${thread.other_user_id}` : '#/');
        } catch (err) {
          replace(toError, explain(err));
        }
      },
    },
    h('h2', { id: 'to-title' }, 'Write to a user name'),
    h('div', { class: 'field' }, h('label', { for: 'to-username' }, 'User name'), toUser),
    h('div', { class: 'field' }, h('label', { for: 'to-subject' }, 'Subject (optional)'), toSubject),
    h('div', { class: 'field' }, h('label', { for: 'to-message' }, 'Message'), toMessage),
    toError,
    h('button', { type: 'submit', class: 'primary' }, 'Send'),
  );

  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, 250);
  });

  replace(
    main,
    h(
      'div',
      { class: 'page' },
      h('h1', null, 'New conversation'),
      app.me.role === 'patient'
        ? h('p', { class: 'notice' }, 'Patients can reply to their clinician but cannot start a conversation with one. Your clinician will write to you first.')
        : null,
      h(
        'form',
        { class: 'panel', role: 'search', onsubmit: (e) => { e.preventDefault(); search(); } },
        h('label', { for: 'people-q' }, 'Find someone you may write to'),
        h('div', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Search')),
      ),
      error,
      results,
      patients,
      app.me.role === 'patient' ? null : toForm,
    ),
  );
  search();
  if (app.me.role === 'clinician') loadPatients();
  input.focus();
  return {
    destroy() {
      destroyed = true;
      clearTimeout(timer);
    },
  };
}

function emptyText(role) {
  switch (role) {
    case 'student':
      return 'You can write to tutors once you have a booking with them.';
    case 'tutor':
      return 'You can write to students once they have a booking with you.';
    case 'clinician':
      return 'You can write to patients once an admin assigns them to you.';
    case 'patient':
      return 'Nobody to start a conversation with.';
    default:
      return 'Nobody found.';
  }
}
