// Formatting shared by the views.

export function displayName(user) {
  if (!user) return '';
  const full = [user.first_name, user.last_name].filter((s) => s && s.trim()).join(' ');
  return full || user.username || `User ${user.id}`;
}

const roleLabels = { student: 'Student', tutor: 'Tutor', patient: 'Patient', clinician: 'Clinician', admin: 'Admin' };
export function roleLabel(role) {
  return roleLabels[role] || role || '';
}

export function shortTime(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  const now = new Date();
  if (date.toDateString() === now.toDateString()) {
    return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }
  return date.toLocaleDateString([], { month: 'short', day: 'numeric' });
}

export function fullTime(iso) {
  return iso ? new Date(iso).toLocaleString() : '';
}

export function fileSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1048576) return `${(bytes / 1024).toFixed(0)} KB`;
  return `${(bytes / 1048576).toFixed(1)} MB`;
}

/** System B's notification text: "New message from {sender}: {subject or first 50 characters}". */
export function notificationText(sender, subject, body) {
  const about = subject && subject.trim() ? subject : Array.from(body || '').slice(0, 50).join('');
  return `New message from ${sender}: ${about}`;
}

/** The words of a search query, for highlighting. */
export function queryWords(q) {
  return q.split(/\s+/).map((w) => w.replace(/^["'(]+|["')]+$/g, '')).filter((w) => w.length > 0);
}
