// Admin screens: users (search, role, active flag), bookings, care assignments, reports and the
// audit log with the hash-chain verification.

import { api, explain } from './api.js';
import { h, replace } from './dom.js';
import { displayName, fullTime } from './format.js';

const ROLES = ['student', 'tutor', 'patient', 'clinician', 'admin'];
const STATES = ['requested', 'scheduled', 'active', 'ended', 'cancelled'];

export function renderAdmin(main, app) {
  const status = h('div', { role: 'status', id: 'admin-status', class: 'notice-line' });
  const error = h('div', { class: 'error', role: 'alert', id: 'admin-error' });
  const ok = (text) => {
    replace(error);
    replace(status, text);
  };
  const fail = (err) => {
    replace(status);
    replace(error, explain(err));
  };

  // Users.
  const q = h('input', { id: 'admin-q', type: 'search', autocomplete: 'off' });
  const roleFilter = h('select', { id: 'admin-role' }, h('option', { value: '' }, 'Any role'), ROLES.map((r) => h('option', { value: r }, r)));
  const usersBody = h('tbody', { id: 'admin-users' });
  async function loadUsers() {
    try {
      const params = new URLSearchParams();
      if (q.value.trim()) params.set('q', q.value.trim());
      if (roleFilter.value) params.set('role', roleFilter.value);
      params.set('limit', '50');
      const found = await api('GET', `/api/admin/users?${params}`);
      replace(usersBody, found.users.map(userRow));
    } catch (err) {
      fail(err);
    }
  }
  function userRow(u) {
    const select = h('select', { 'aria-label': `Role of ${u.username}` }, ROLES.map((r) => h('option', { value: r, selected: r === u.role }, r)));
    const saveRole = h('button', { type: 'button', class: 'small', onclick: async () => {
      try {
        const updated = await api('PATCH', `/api/admin/users/${u.id}`, { role: select.value });
        ok(`${updated.username} is now ${updated.role}.`);
        loadUsers();
      } catch (err) {
        fail(err);
      }
    } }, 'Save role', h('span', { class: 'visually-hidden' }, ` of ${u.username}`));
    const toggle = h('button', { type: 'button', class: 'small', onclick: async () => {
      try {
        const updated = await api('PATCH', `/api/admin/users/${u.id}`, { is_active: !u.is_active });
        ok(`${updated.username} is now ${updated.is_active ? 'active' : 'deactivated'}.`);
        loadUsers();
      } catch (err) {
        fail(err);
      }
    } }, u.is_active ? 'Deactivate' : 'Activate', h('span', { class: 'visually-hidden' }, ` ${u.username}`));
    return h(
      'tr',
      { 'data-user': u.username },
      h('td', null, String(u.id)),
      h('td', null, u.username),
      h('td', null, displayName(u)),
      h('td', null, u.email),
      h('td', null, select, ' ', saveRole),
      h('td', null, u.is_active ? 'Active' : 'Deactivated', ' ', toggle),
    );
  }
  const usersSection = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'admin-users-title' },
    h('h2', { id: 'admin-users-title' }, 'Users'),
    h(
      'form',
      { class: 'inline', role: 'search', onsubmit: (e) => { e.preventDefault(); loadUsers(); } },
      h('label', { for: 'admin-q' }, 'Name, username or email'),
      q,
      h('label', { for: 'admin-role' }, 'Role'),
      roleFilter,
      h('button', { type: 'submit' }, 'Find users'),
    ),
    h(
      'div',
      { class: 'table-wrap' },
      h('table', null,
        h('caption', { class: 'visually-hidden' }, 'Users'),
        h('thead', null, h('tr', null, ['Id', 'Username', 'Name', 'Email', 'Role', 'Status'].map((c) => h('th', { scope: 'col' }, c)))),
        usersBody),
    ),
  );

  // Bookings.
  const student = h('input', { id: 'bk-student', type: 'number', min: 1, required: true });
  const tutor = h('input', { id: 'bk-tutor', type: 'number', min: 1, required: true });
  const bookingState = h('select', { id: 'bk-state' }, STATES.map((s) => h('option', { value: s }, s)));
  const moveId = h('input', { id: 'bk-id', type: 'number', min: 1, required: true });
  const moveState = h('select', { id: 'bk-move-state' }, STATES.map((s) => h('option', { value: s }, s)));
  const bookingsSection = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'admin-bookings-title' },
    h('h2', { id: 'admin-bookings-title' }, 'Bookings'),
    h(
      'form',
      { class: 'inline', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const b = await api('POST', '/api/admin/bookings', { student_id: Number(student.value), tutor_id: Number(tutor.value), state: bookingState.value });
          ok(`Booking #${b.id} created (${b.state}).`);
        } catch (err) {
          fail(err);
        }
      } },
      h('label', { for: 'bk-student' }, 'Student id'), student,
      h('label', { for: 'bk-tutor' }, 'Tutor id'), tutor,
      h('label', { for: 'bk-state' }, 'State'), bookingState,
      h('button', { type: 'submit' }, 'Create booking'),
    ),
    h(
      'form',
      { class: 'inline', onsubmit: async (e) => {
        e.preventDefault();
        try {
          const b = await api('PATCH', `/api/admin/bookings/${Number(moveId.value)}`, { state: moveState.value });
          ok(`Booking #${b.id} is now ${b.state}.`);
        } catch (err) {
          fail(err);
        }
      } },
      h('label', { for: 'bk-id' }, 'Booking id'), moveId,
      h('label', { for: 'bk-move-state' }, 'New state'), moveState,
      h('button', { type: 'submit' }, 'Move booking'),
    ),
  );

  // Care assignments.
  const clinician = h('input', { id: 'ca-clinician', type: 'number', min: 1, required: true });
  const patient = h('input', { id: 'ca-patient', type: 'number', min: 1, required: true });
  const assign = async (on) => {
    try {
      if (on) await api('POST', '/api/admin/care-assignments', { clinician_id: Number(clinician.value), patient_id: Number(patient.value) });
      else await api('DELETE', `/api/admin/care-assignments/${Number(clinician.value)}/${Number(patient.value)}`);
      ok(on ? 'Patient assigned.' : 'Patient unassigned.');
    } catch (err) {
      fail(err);
    }
  };
  const careSection = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'admin-care-title' },
    h('h2', { id: 'admin-care-title' }, 'Care assignments'),
    h(
      'form',
      { class: 'inline', onsubmit: (e) => { e.preventDefault(); assign(true); } },
      h('label', { for: 'ca-clinician' }, 'Clinician id'), clinician,
      h('label', { for: 'ca-patient' }, 'Patient id'), patient,
      h('button', { type: 'submit' }, 'Assign'),
      h('button', { type: 'button', onclick: () => assign(false) }, 'Unassign'),
    ),
  );

  // Reports.
  const reports = h('ul', { class: 'reports', id: 'admin-reports' });
  async function loadReports() {
    try {
      const found = await api('GET', '/api/admin/reports?limit=50');
      replace(
        reports,
        found.reports.length === 0
          ? h('li', { class: 'empty' }, 'No reports.')
          : found.reports.map((r) =>
              h(
                'li',
                { class: 'report' },
                h('p', null, h('strong', null, `#${r.id} by ${r.reporter_username}`), ` · ${fullTime(r.created_at)}`),
                h('p', null, 'Reason: ', r.reason),
                h('blockquote', null, `${r.message.sender_username}: ${r.message.message}`),
              ),
            ),
      );
    } catch (err) {
      fail(err);
    }
  }

  // Audit log.
  const audit = h('tbody', { id: 'admin-audit' });
  const verifyResult = h('p', { role: 'status', id: 'audit-verify' });
  async function loadAudit() {
    try {
      const found = await api('GET', '/api/admin/audit?limit=50');
      replace(
        audit,
        found.entries.map((e) =>
          h('tr', null, h('td', null, String(e.id)), h('td', null, fullTime(e.at)), h('td', null, e.actor_id === null ? '—' : String(e.actor_id)), h('td', null, e.action), h('td', null, `${e.object_type}${e.object_id === null ? '' : ` #${e.object_id}`}`)),
        ),
      );
    } catch (err) {
      fail(err);
    }
  }
  async function verify() {
    replace(verifyResult, 'Verifying…');
    try {
      const v = await api('GET', '/api/admin/audit/verify');
      replace(verifyResult, v.intact ? `The audit log is intact: ${v.checked} entries verified.` : `The audit log was tampered with at entry #${v.first_bad_id}: ${v.problem}.`);
    } catch (err) {
      replace(verifyResult);
      fail(err);
    }
  }

  replace(
    main,
    h(
      'div',
      { class: 'page wide' },
      h('h1', null, 'Administration'),
      status,
      error,
      usersSection,
      bookingsSection,
      careSection,
      h('section', { class: 'panel', 'aria-labelledby': 'admin-reports-title' }, h('h2', { id: 'admin-reports-title' }, 'Reports'), reports),
      h(
        'section',
        { class: 'panel', 'aria-labelledby': 'admin-audit-title' },
        h('h2', { id: 'admin-audit-title' }, 'Audit log'),
        h('button', { type: 'button', onclick: verify }, 'Verify the hash chains'),
        verifyResult,
        h('div', { class: 'table-wrap' }, h('table', null,
          h('caption', { class: 'visually-hidden' }, 'Newest audit entries'),
          h('thead', null, h('tr', null, ['Id', 'When', 'Actor', 'Action', 'Object'].map((c) => h('th', { scope: 'col' }, c)))),
          audit)),
      ),
    ),
  );
  loadUsers();
  loadReports();
  loadAudit();
  return null;
}
