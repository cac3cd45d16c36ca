// The caller's own account: profile, password, presence visibility, logging out.

import { api, explain } from './api.js';
import { h, replace } from './dom.js';
import { displayName, roleLabel } from './format.js';

export function renderSettings(main, app) {
  const me = app.me;
  const current = h('input', { id: 'pw-current', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { id: 'pw-new', type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128 });
  const confirm = h('input', { id: 'pw-confirm', type: 'password', autocomplete: 'new-password', required: true });
  const pwResult = h('div', { role: 'status', id: 'pw-result' });
  const pwError = h('div', { class: 'error', role: 'alert' });
  const visible = h('input', { id: 'presence-visible', type: 'checkbox', checked: me.presence_visible !== false });
  const presenceResult = h('div', { role: 'status' });

  const passwordForm = h(
    'form',
    {
      class: 'panel',
      'aria-labelledby': 'pw-title',
      onsubmit: async (e) => {
        e.preventDefault();
        replace(pwResult);
        replace(pwError);
        if (next.value !== confirm.value) {
          replace(pwError, 'The new passwords do not match.');
          return;
        }
        try {
          await api('PUT', '/api/me/password', { current_password: current.value, new_password: next.value });
          current.value = '';
          next.value = '';
          confirm.value = '';
          replace(pwResult, 'Password changed. Your other sessions and devices were signed out.');
        } catch (err) {
          replace(pwError, err.code === 'WRONG_PASSWORD' ? 'The current password is not right.' : explain(err));
        }
      },
    },
    h('h2', { id: 'pw-title' }, 'Change password'),
    h('div', { class: 'field' }, h('label', { for: 'pw-current' }, 'Current password'), current),
    h('div', { class: 'field' }, h('label', { for: 'pw-new' }, 'New password'), next),
    h('div', { class: 'field' }, h('label', { for: 'pw-confirm' }, 'New password again'), confirm),
    pwError,
    pwResult,
    h('button', { type: 'submit', class: 'primary' }, 'Change password'),
  );

  visible.addEventListener('change', async () => {
    try {
      await api('PUT', '/api/me/presence', { visible: visible.checked });
      me.presence_visible = visible.checked;
      replace(presenceResult, visible.checked ? 'Others can see when you are online.' : 'You now appear offline to everyone.');
    } catch (err) {
      visible.checked = !visible.checked;
      replace(presenceResult, explain(err));
    }
  });

  replace(
    main,
    h(
      'div',
      { class: 'page' },
      h('h1', null, 'Settings'),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'profile-title' },
        h('h2', { id: 'profile-title' }, 'Profile'),
        h(
          'dl',
          { class: 'facts' },
          h('dt', null, 'Name'), h('dd', null, displayName(me)),
          h('dt', null, 'Username'), h('dd', null, me.username),
          h('dt', null, 'Email'), h('dd', null, me.email),
          h('dt', null, 'Role'), h('dd', null, roleLabel(me.role)),
        ),
      ),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'privacy-title' },
        h('h2', { id: 'privacy-title' }, 'Privacy'),
        h('div', { class: 'check' }, visible, h('label', { for: 'presence-visible' }, 'Show others when I am online')),
        presenceResult,
      ),
      passwordForm,
      h('section', { class: 'panel' }, h('button', { type: 'button', onclick: () => app.logout() }, 'Log out')),
    ),
  );
  return null;
}
