// Log in and register. Login asks for a browser session (`cookie: true`): an HttpOnly cookie
// plus the CSRF token the page keeps in memory.

import { api, explain } from './api.js';
import { h, replace } from './dom.js';

function field(label, input, hint) {
  const id = input.id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), input, hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null);
}

function errorBox() {
  return h('div', { class: 'error', role: 'alert' });
}

export function renderLogin(main, onLoggedIn, flash) {
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const error = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Log in');
  const form = h(
    'form',
    {
      class: 'panel narrow',
      'aria-labelledby': 'login-title',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        replace(error);
        try {
          const session = await api('POST', '/api/auth/login', { username: username.value, password: password.value, cookie: true }, { quiet: true });
          await onLoggedIn(session.csrf_token);
        } catch (err) {
          replace(error, explain(err));
          password.focus();
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', { id: 'login-title' }, 'Log in'),
    flash ? h('p', { class: 'notice', role: 'status' }, flash) : null,
    field('Username', username),
    field('Password', password),
    error,
    submit,
    h('p', null, 'New here? ', h('a', { href: '#/register' }, 'Create an account')),
  );
  replace(main, form);
  username.focus();
  return null;
}

export function renderRegister(main, onLoggedIn) {
  const input = (id, attrs) => h('input', { id, name: id.replace('reg-', ''), ...attrs });
  const username = input('reg-username', { autocomplete: 'username', required: true, minlength: 3, maxlength: 32, 'aria-describedby': 'reg-username-hint' });
  const email = input('reg-email', { type: 'email', autocomplete: 'email', required: true });
  const first = input('reg-first', { autocomplete: 'given-name', maxlength: 100 });
  const last = input('reg-last', { autocomplete: 'family-name', maxlength: 100 });
  const password = input('reg-password', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8, maxlength: 128, 'aria-describedby': 'reg-password-hint' });
  const error = errorBox();
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create account');
  const form = h(
    'form',
    {
      class: 'panel narrow',
      'aria-labelledby': 'register-title',
      onsubmit: async (e) => {
        e.preventDefault();
        submit.disabled = true;
        replace(error);
        try {
          await api('POST', '/api/auth/register', {
            username: username.value,
            email: email.value,
            password: password.value,
            first_name: first.value,
            last_name: last.value,
          }, { quiet: true });
          const session = await api('POST', '/api/auth/login', { username: username.value, password: password.value, cookie: true }, { quiet: true });
          await onLoggedIn(session.csrf_token);
        } catch (err) {
          replace(error, err.field ? `${err.field.replace('_', ' ')}: ${explain(err)}` : explain(err));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h1', { id: 'register-title' }, 'Create an account'),
    field('Username', username, '3 to 32 letters, digits, “.”, “_” or “-”.'),
    field('Email', email),
    field('First name', first),
    field('Last name', last),
    field('Password', password, 'At least 8 characters.'),
    error,
    submit,
    h('p', null, 'Already have an account? ', h('a', { href: '#/login' }, 'Log in')),
  );
  replace(main, form);
  username.focus();
  return null;
}
