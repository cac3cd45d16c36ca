// The conversation list and one open conversation: history (newest page first, older pages on
// scroll), live updates, the composer (Enter sends, Shift+Enter breaks the line), optimistic
// sends settled by the server's answer, edits, deletes, replies, attachments, receipts, typing
// and presence.

import { api, upload, newClientId, explain } from './api.js';
import { h, replace, announce } from './dom.js';
import { displayName, roleLabel, shortTime, fullTime, fileSize } from './format.js';

const PAGE_SIZE = 30;

function threadHash(otherId, bookingId) {
  return bookingId ? `#/c/${otherId}/b/${bookingId}` : `#/c/${otherId}`;
}

function sameBooking(a, b) {
  return (a ?? null) === (b ?? null);
}

export function renderChats(main, app, target) {
  const list = h('ul', { class: 'thread-list' });
  const listPane = h('nav', { class: 'threads', 'aria-labelledby': 'threads-title' }, h('h1', { id: 'threads-title', class: 'pane-title' }, 'Conversations'), list);
  const convPane = h('section', { class: 'conversation', 'aria-label': 'Conversation' });
  const layout = h('div', { class: target ? 'chat-layout has-conversation' : 'chat-layout' }, listPane, convPane);
  replace(main, layout);

  function renderThreadList() {
    if (app.threads.length === 0) {
      replace(list, h('li', { class: 'empty' }, 'No conversations yet. ', h('a', { href: '#/new' }, 'Start one')));
      return;
    }
    replace(
      list,
      app.threads.map((t) => {
        const active = target && t.other_user_id === target.otherId && sameBooking(t.booking_id, target.bookingId);
        const name = displayName({ first_name: t.other_user_first_name, last_name: t.other_user_last_name, username: t.other_user_username });
        const mine = t.last_sender_id === app.me.id;
        return h(
          'li',
          null,
          h(
            'a',
            { href: threadHash(t.other_user_id, t.booking_id), class: active ? 'thread active' : 'thread', 'aria-current': active ? 'true' : null, 'data-user': t.other_user_id },
            h('span', { class: 'thread-top' }, h('span', { class: 'thread-name' }, name), h('time', { datetime: t.last_message_time, class: 'time' }, shortTime(t.last_message_time))),
            h(
              'span',
              { class: 'thread-context' },
              h('span', { class: 'role' }, roleLabel(t.other_user_role)),
              t.booking_id ? h('span', { class: 'booking' }, `Booking #${t.booking_id}`) : null,
            ),
            h(
              'span',
              { class: 'thread-bottom' },
              h('span', { class: 'preview' }, mine ? 'You: ' : '', t.last_message),
              t.unread_count > 0 ? h('span', { class: 'badge' }, String(t.unread_count), h('span', { class: 'visually-hidden' }, ' unread')) : null,
            ),
          ),
        );
      }),
    );
  }

  renderThreadList();
  let conversation = null;
  if (target) {
    conversation = openConversation(convPane, app, target);
  } else {
    replace(convPane, h('div', { class: 'placeholder' }, h('p', null, 'Choose a conversation, or '), h('a', { href: '#/new', class: 'button' }, 'start a new one')));
  }
  return {
    threadsChanged() {
      renderThreadList();
      if (conversation) conversation.threadsChanged();
    },
    onEvent(frame) {
      if (conversation) conversation.onEvent(frame);
    },
    isShowing(otherId, bookingId) {
      return Boolean(conversation) && conversation.isShowing(otherId, bookingId);
    },
    reload() {
      if (conversation) conversation.reload();
    },
    destroy() {
      if (conversation) conversation.destroy();
    },
  };
}

function openConversation(pane, app, { otherId, bookingId, focusMessage }) {
  const me = app.me;
  const entries = new Map(); // message id -> entry
  const byClient = new Map(); // client id -> entry
  let nextBefore = null;
  let hasMore = false;
  let loadingOlder = false;
  let replyTo = null;
  let attachment = null;
  let typingHideTimer = null;
  let typingStopTimer = null;
  let typingSentAt = 0;
  let markTimer = null;
  let refreshTimer = null;
  let destroyed = false;
  let blocked = false;

  const partner = () => app.people.get(otherId) || { id: otherId, username: '', first_name: '', last_name: '', role: '' };

  // Header.
  const title = h('h2', { id: 'conversation-title' });
  const context = h('p', { class: 'conversation-context' });
  const presence = h('span', { class: 'presence', 'data-presence': 'unknown' });
  const typing = h('p', { class: 'typing', 'aria-live': 'polite' });
  const blockButton = h('button', { type: 'button', class: 'small', onclick: toggleBlock }, 'Block');
  const readButton = h('button', { type: 'button', class: 'small', onclick: () => markRead(true) }, 'Mark read');
  const notice = h('div', { class: 'error', role: 'alert' });
  const header = h(
    'header',
    { class: 'conversation-header' },
    h('a', { href: '#/', class: 'back' }, '← Conversations'),
    h('div', { class: 'who' }, title, context, presence, typing),
    h('div', { class: 'conversation-actions' }, readButton, blockButton),
  );

  // History.
  const olderButton = h('button', { type: 'button', class: 'small older', hidden: true, onclick: () => loadOlder() }, 'Load older messages');
  const log = h('ol', { class: 'messages' });
  // New messages are announced to screen readers as they are added (a polite live log).
  const region = h('div', { role: 'log', 'aria-live': 'polite', 'aria-relevant': 'additions', 'aria-labelledby': 'conversation-title' }, log);
  const scroller = h('div', { class: 'scroller', tabindex: '0', role: 'region', 'aria-label': 'Message history' }, olderButton, region);
  scroller.addEventListener('scroll', () => {
    if (scroller.scrollTop < 40 && hasMore && !loadingOlder) loadOlder();
  });

  // Composer.
  const replyBanner = h('div', { class: 'reply-banner', hidden: true });
  const subjectInput = h('input', { id: 'compose-subject', class: 'subject-input', maxlength: 255, placeholder: 'Subject (optional)' });
  const subjectField = h('div', { class: 'subject-field', hidden: true }, h('label', { for: 'compose-subject', class: 'visually-hidden' }, 'Subject'), subjectInput);
  const subjectToggle = h('button', { type: 'button', class: 'small', 'aria-expanded': 'false', onclick: toggleSubject }, 'Subject');
  const textarea = h('textarea', { id: 'compose', rows: 2, placeholder: 'Write a message', 'aria-describedby': 'compose-hint' });
  const fileInput = h('input', { type: 'file', id: 'compose-file', class: 'visually-hidden', accept: 'image/jpeg,image/png,image/gif,image/webp,application/pdf,.doc,.docx,.txt,.csv' });
  const fileChip = h('div', { class: 'file-chip', hidden: true });
  const progress = h('progress', { max: 1, value: 0, hidden: true, 'aria-label': 'Upload progress' });
  const composeError = h('div', { class: 'error', role: 'alert', id: 'compose-error' });
  const sendButton = h('button', { type: 'submit', class: 'primary' }, 'Send');
  const composer = h(
    'form',
    { class: 'composer', onsubmit: (e) => { e.preventDefault(); submit(); } },
    replyBanner,
    subjectField,
    fileChip,
    progress,
    h('label', { for: 'compose', class: 'visually-hidden' }, 'Message'),
    textarea,
    h(
      'div',
      { class: 'composer-row' },
      h('label', { for: 'compose-file', class: 'button small attach' }, 'Attach file'),
      fileInput,
      subjectToggle,
      h('span', { id: 'compose-hint', class: 'hint' }, 'Enter to send, Shift+Enter for a new line'),
      sendButton,
    ),
    composeError,
  );
  replace(pane, header, notice, scroller, composer);
  pane.setAttribute('aria-labelledby', 'conversation-title');
  pane.removeAttribute('aria-label');

  textarea.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      submit();
    } else if (e.key === 'Escape' && replyTo) {
      setReply(null);
    }
  });
  textarea.addEventListener('input', () => {
    const now = Date.now();
    if (now - typingSentAt > 2500 && textarea.value.trim()) {
      typingSentAt = now;
      if (app.live) app.live.send({ type: 'typing', recipient_id: otherId, is_typing: true });
    }
    clearTimeout(typingStopTimer);
    typingStopTimer = setTimeout(stopTyping, 3000);
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    setAttachment(file || null);
  });

  function stopTyping() {
    clearTimeout(typingStopTimer);
    if (typingSentAt && app.live) app.live.send({ type: 'typing', recipient_id: otherId, is_typing: false });
    typingSentAt = 0;
  }

  function toggleSubject() {
    const open = subjectField.hidden;
    subjectField.hidden = !open;
    subjectToggle.setAttribute('aria-expanded', String(open));
    if (open) subjectInput.focus();
    else subjectInput.value = '';
  }

  function setAttachment(file) {
    attachment = file;
    if (!file) {
      fileInput.value = '';
      fileChip.hidden = true;
      replace(fileChip);
      return;
    }
    const preview = file.type.startsWith('image/') ? h('img', { src: URL.createObjectURL(file), alt: '', class: 'chip-preview' }) : null;
    replace(
      fileChip,
      preview,
      h('span', { class: 'file-name' }, file.name),
      h('span', { class: 'hint' }, fileSize(file.size)),
      h('button', { type: 'button', class: 'small', onclick: () => setAttachment(null) }, 'Remove file'),
    );
    fileChip.hidden = false;
  }

  function setReply(entry) {
    replyTo = entry;
    if (!entry) {
      replyBanner.hidden = true;
      replace(replyBanner);
      return;
    }
    const subject = entry.data.subject || 'No Subject';
    replace(
      replyBanner,
      h('span', null, 'Replying with subject: '),
      h('strong', null, subject.startsWith('Re: ') ? subject : `Re: ${subject}`),
      h('button', { type: 'button', class: 'small', onclick: () => setReply(null) }, 'Cancel reply'),
    );
    replyBanner.hidden = false;
    textarea.focus();
  }

  function renderHeader() {
    const p = partner();
    replace(title, displayName(p));
    replace(context, roleLabel(p.role), bookingId ? ` · Booking #${bookingId}` : '');
  }

  function setPresence(status) {
    presence.dataset.presence = status;
    replace(presence, status === 'online' ? 'Online' : status === 'offline' ? 'Offline' : '');
  }

  function isMine(data) {
    return data.sender_id === me.id;
  }

  function statusOf(data) {
    if (data.failed) return ['failed', 'Not sent'];
    if (data.pending) return ['sending', 'Sending…'];
    if (data.is_read || data.read_at) return ['read', '✓✓ Read'];
    if (data.delivered || app.delivered.has(data.id)) return ['delivered', '✓✓ Delivered'];
    return ['sent', '✓ Sent'];
  }

  function canEdit(data) {
    if (!isMine(data) || data.pending || data.failed || data.deleted) return false;
    const age = Date.now() - Date.parse(data.created_at);
    return age < (app.config.editWindowSeconds || 900) * 1000;
  }

  function renderAttachment(entry, a) {
    const image = a.mime_type.startsWith('image/');
    const downloadable = a.scan_status === 'clean' || a.scan_status === 'not_scanned';
    const scanText = { pending: 'Checking for viruses…', infected: 'Blocked: malware found', clean: 'Virus scan: clean', not_scanned: '' }[a.scan_status] || a.scan_status;
    const box = h('div', { class: 'attachment', 'data-attachment': a.id, 'data-scan': a.scan_status });
    if (image && downloadable) {
      const img = h('img', { class: 'preview', alt: `Preview of ${a.filename}`, width: a.width || null, height: a.height || null, loading: 'lazy' });
      box.appendChild(img);
      api('GET', `/api/messages/attachments/${a.id}/download`).then((link) => {
        img.src = link.download_url;
      }).catch(() => img.remove());
    }
    box.appendChild(
      h(
        'div',
        { class: 'attachment-info' },
        h('span', { class: 'file-name' }, a.filename),
        h('span', { class: 'hint' }, fileSize(a.size)),
        scanText ? h('span', { class: `scan scan-${a.scan_status}` }, scanText) : null,
        downloadable
          ? h('button', { type: 'button', class: 'small download', onclick: (e) => download(a, e.currentTarget) }, 'Download', h('span', { class: 'visually-hidden' }, ` ${a.filename}`))
          : null,
      ),
    );
    return box;
  }

  async function download(a, button) {
    button.disabled = true;
    try {
      const link = await api('GET', `/api/messages/attachments/${a.id}/download`);
      const anchor = h('a', { href: link.download_url, download: link.filename, rel: 'noopener', hidden: true });
      document.body.appendChild(anchor);
      anchor.click();
      anchor.remove();
    } catch (err) {
      replace(notice, explain(err));
    } finally {
      button.disabled = false;
    }
  }

  function renderEntry(entry) {
    const data = entry.data;
    const mine = isMine(data);
    const li = h('li', {
      class: `msg ${mine ? 'mine' : 'theirs'}${data.deleted ? ' deleted' : ''}${data.pending ? ' pending' : ''}`,
      id: data.id ? `m-${data.id}` : null,
      'data-id': data.id || null,
      'data-client-id': data.client_id || null,
      tabindex: '-1',
    });
    const bubble = h('div', { class: 'bubble' });
    bubble.appendChild(h('span', { class: 'visually-hidden' }, mine ? 'You:' : `${displayName(partner())}:`));
    if (data.deleted) {
      bubble.appendChild(h('p', { class: 'body gone' }, 'This message was deleted.'));
      li.appendChild(bubble);
      return li;
    }
    if (data.subject) bubble.appendChild(h('p', { class: 'subject' }, data.subject));
    if (entry.editing) {
      const editor = h('textarea', { class: 'edit-box', rows: 3, 'aria-label': 'Edit message' });
      editor.value = data.message;
      const save = async () => {
        try {
          const updated = await api('PATCH', `/api/messages/${data.id}`, { message: editor.value });
          entry.editing = false;
          Object.assign(entry.data, { message: updated.message, is_edited: true, edited_at: updated.edited_at });
          redraw(entry);
          focusEntry(entry);
        } catch (err) {
          replace(notice, explain(err));
        }
      };
      editor.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && !e.shiftKey) {
          e.preventDefault();
          save();
        } else if (e.key === 'Escape') {
          entry.editing = false;
          redraw(entry);
          focusEntry(entry);
        }
      });
      bubble.append(
        editor,
        h(
          'div',
          { class: 'edit-actions' },
          h('button', { type: 'button', class: 'small primary', onclick: save }, 'Save'),
          h('button', { type: 'button', class: 'small', onclick: () => { entry.editing = false; redraw(entry); } }, 'Cancel'),
        ),
      );
      setTimeout(() => editor.focus(), 0);
    } else {
      bubble.appendChild(h('p', { class: 'body' }, data.message));
    }
    for (const a of data.attachments || []) bubble.appendChild(renderAttachment(entry, a));
    const [statusKey, statusText] = statusOf(data);
    bubble.appendChild(
      h(
        'div',
        { class: 'meta' },
        h('time', { datetime: data.created_at, title: fullTime(data.created_at) }, shortTime(data.created_at)),
        data.is_edited ? h('span', { class: 'edited' }, 'edited') : null,
        mine ? h('span', { class: `receipt receipt-${statusKey}`, 'data-status': statusKey }, statusText) : null,
        data.failed ? h('button', { type: 'button', class: 'small', onclick: () => retry(entry) }, 'Retry') : null,
      ),
    );
    li.appendChild(bubble);
    if (data.id && !data.pending) li.appendChild(renderActions(entry));
    return li;
  }

  function renderActions(entry) {
    const data = entry.data;
    const mine = isMine(data);
    const reason = h('textarea', { rows: 2, maxlength: 1000, 'aria-label': 'Why are you reporting this message?' });
    const reportForm = h(
      'div',
      { class: 'report-form', hidden: true },
      reason,
      h('button', { type: 'button', class: 'small', onclick: async () => {
        try {
          await api('POST', `/api/messages/${data.id}/report`, { reason: reason.value });
          replace(reportForm, h('p', { role: 'status' }, 'Reported to the admins. Thank you.'));
        } catch (err) {
          replace(notice, explain(err));
        }
      } }, 'Send report'),
    );
    const button = (label, onclick) => h('button', { type: 'button', class: 'small', onclick }, label);
    return h(
      'details',
      { class: 'actions' },
      h('summary', null, h('span', { 'aria-hidden': 'true' }, '⋯'), h('span', { class: 'visually-hidden' }, 'Message actions')),
      h(
        'div',
        { class: 'action-list' },
        button('Reply', () => setReply(entry)),
        canEdit(data) ? button('Edit', () => { entry.editing = true; redraw(entry); }) : null,
        button('Delete for me', () => remove(entry, 'me')),
        mine ? button('Delete for everyone', () => remove(entry, 'everyone')) : null,
        mine ? null : button('Report', () => { reportForm.hidden = false; reason.focus(); }),
        reportForm,
      ),
    );
  }

  function redraw(entry) {
    const fresh = renderEntry(entry);
    if (entry.el && entry.el.parentNode) entry.el.replaceWith(fresh);
    entry.el = fresh;
  }

  function focusEntry(entry) {
    if (entry.el) entry.el.focus();
  }

  function nearBottom() {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  }

  function scrollToBottom() {
    scroller.scrollTop = scroller.scrollHeight;
    // Again once the layout has settled (wrapped lines, the header's final height).
    requestAnimationFrame(() => {
      scroller.scrollTop = scroller.scrollHeight;
    });
  }

  /** Adds or updates a message from the server (history, an answer, or a frame). */
  function upsert(data, { prepend = false } = {}) {
    let entry = data.id ? entries.get(data.id) : null;
    if (!entry && data.client_message_id) entry = byClient.get(data.client_message_id);
    if (entry) {
      const keep = { delivered: entry.data.delivered, attachments: entry.data.attachments };
      entry.data = { ...entry.data, ...data, pending: false, failed: false };
      if (!data.attachments && keep.attachments) entry.data.attachments = keep.attachments;
      if (keep.delivered) entry.data.delivered = true;
      if (data.id) entries.set(data.id, entry);
      redraw(entry);
      return entry;
    }
    entry = { data: { ...data }, el: null };
    entries.set(data.id, entry);
    entry.el = renderEntry(entry);
    if (prepend) log.insertBefore(entry.el, log.firstChild);
    else log.appendChild(entry.el);
    return entry;
  }

  function fromHistory(m) {
    return { ...m, attachments: m.attachments || [] };
  }

  async function loadNewest() {
    const booking = bookingId ? `&booking_id=${bookingId}` : '';
    const page = await api('GET', `/api/messages/threads/${otherId}?page_size=${PAGE_SIZE}${booking}`);
    return page;
  }

  async function load() {
    replace(log);
    entries.clear();
    byClient.clear();
    try {
      const page = await loadNewest();
      if (destroyed) return;
      learnPartner(page.messages);
      for (const m of page.messages) upsert(fromHistory(m));
      hasMore = page.has_more;
      nextBefore = page.next_before;
      olderButton.hidden = !hasMore;
      renderHeader();
      if (page.messages.length === 0) {
        log.appendChild(h('li', { class: 'empty', id: 'empty-conversation' }, 'No messages yet. Say hello!'));
      }
      scrollToBottom();
      if (focusMessage) await jumpTo(focusMessage);
      markRead(false);
    } catch (err) {
      replace(notice, explain(err));
    }
  }

  function learnPartner(messages) {
    for (const m of messages) {
      const mine = m.sender_id === me.id;
      const id = mine ? m.recipient_id : m.sender_id;
      if (id !== otherId || app.people.has(otherId)) continue;
      app.people.set(otherId, mine
        ? { id, username: m.recipient_username, first_name: m.recipient_first_name, last_name: m.recipient_last_name, role: '' }
        : { id, username: m.sender_username, first_name: m.sender_first_name, last_name: m.sender_last_name, role: '' });
    }
  }

  async function loadOlder() {
    if (!hasMore || loadingOlder) return;
    loadingOlder = true;
    try {
      const booking = bookingId ? `&booking_id=${bookingId}` : '';
      const page = await api('GET', `/api/messages/threads/${otherId}?page_size=${PAGE_SIZE}&before=${nextBefore}${booking}`);
      if (destroyed) return;
      const before = scroller.scrollHeight;
      for (const m of page.messages.slice().reverse()) upsert(fromHistory(m), { prepend: true });
      scroller.scrollTop += scroller.scrollHeight - before;
      hasMore = page.has_more;
      nextBefore = page.next_before;
      olderButton.hidden = !hasMore;
    } catch (err) {
      replace(notice, explain(err));
    } finally {
      loadingOlder = false;
    }
  }

  async function jumpTo(id) {
    for (let tries = 0; !entries.has(id) && hasMore && tries < 50; tries += 1) await loadOlder();
    const entry = entries.get(id);
    if (!entry) {
      replace(notice, 'That message is no longer in this conversation.');
      return;
    }
    entry.el.classList.add('focused');
    entry.el.scrollIntoView({ block: 'center' });
    entry.el.focus();
  }

  /** Marks the partner's messages read: on opening, and as they arrive while the page is seen. */
  async function markRead(force) {
    const thread = app.threads.find((t) => t.other_user_id === otherId && sameBooking(t.booking_id, bookingId));
    const unread = thread ? thread.unread_count : 0;
    app.seen(otherId);
    if (!force && unread === 0) return;
    const booking = bookingId ? `?booking_id=${bookingId}` : '';
    try {
      await api('PATCH', `/api/messages/threads/${otherId}/read-all${booking}`);
      if (thread) thread.unread_count = 0;
      app.updateBadges();
      app.scheduleThreads();
    } catch (err) {
      replace(notice, explain(err));
    }
  }

  function scheduleMarkRead() {
    clearTimeout(markTimer);
    markTimer = setTimeout(() => {
      if (document.visibilityState === 'visible') markRead(true);
    }, 300);
  }

  /** Files are not part of message frames: fetch the newest page once to pick them up. */
  function scheduleRefresh() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(async () => {
      try {
        const page = await loadNewest();
        if (destroyed) return;
        for (const m of page.messages) {
          const entry = entries.get(m.id);
          if (entry && m.attachments && m.attachments.length && !(entry.data.attachments || []).length) {
            entry.data.attachments = m.attachments;
            redraw(entry);
          }
        }
      } catch {
        // The next event or a reload will pick them up.
      }
    }, 400);
  }

  async function submit() {
    const text = textarea.value.trim();
    if (!text && !attachment) return;
    replace(composeError);
    stopTyping();
    if (attachment) {
      await sendFile(text);
      return;
    }
    const subject = replyTo ? null : subjectInput.value.trim() || null;
    const entry = {
      data: {
        client_id: newClientId(),
        sender_id: me.id,
        recipient_id: otherId,
        message: text,
        subject: replyTo ? `Re: ${replyTo.data.subject || 'No Subject'}`.replace(/^Re: Re: /, 'Re: ') : subject,
        created_at: new Date().toISOString(),
        pending: true,
        reply_to: replyTo ? replyTo.data.id : null,
      },
      el: null,
    };
    byClient.set(entry.data.client_id, entry);
    const empty = log.querySelector('#empty-conversation');
    if (empty) empty.remove();
    entry.el = renderEntry(entry);
    log.appendChild(entry.el);
    scrollToBottom();
    textarea.value = '';
    setReply(null);
    if (!subjectField.hidden) toggleSubject();
    await deliver(entry);
  }

  async function deliver(entry) {
    const data = entry.data;
    try {
      let id;
      let full = null;
      if (data.reply_to) {
        const sent = await api('POST', `/api/messages/${data.reply_to}/reply`, { content: data.message, client_message_id: data.client_id });
        id = sent.message_id;
      } else if (data.subject && partner().username) {
        const sent = await api('POST', '/api/messages/send', { recipient: partner().username, subject: data.subject, content: data.message, client_message_id: data.client_id });
        id = sent.message_id;
      } else {
        full = await api('POST', '/api/messages', { recipient_id: otherId, message: data.message, booking_id: bookingId || undefined, client_message_id: data.client_id });
        id = full.id;
      }
      if (destroyed) return;
      const echoed = entries.get(id);
      if (echoed && echoed !== entry) {
        // The echo frame arrived first and was shown; keep one.
        entry.el.remove();
        return;
      }
      entry.data = { ...entry.data, ...(full || {}), id, pending: false, failed: false };
      entries.set(id, entry);
      redraw(entry);
    } catch (err) {
      if (destroyed) return;
      entry.data.pending = false;
      entry.data.failed = true;
      redraw(entry);
      replace(composeError, explain(err));
      if (err.code === 'RECIPIENT_BLOCKED') setBlocked(true);
    }
  }

  function retry(entry) {
    entry.data.failed = false;
    entry.data.pending = true;
    redraw(entry);
    replace(composeError);
    deliver(entry);
  }

  async function sendFile(text) {
    const file = attachment;
    const form = new FormData();
    form.append('recipient_id', String(otherId));
    form.append('message', text || file.name);
    if (bookingId) form.append('booking_id', String(bookingId));
    form.append('file', file, file.name);
    progress.hidden = false;
    progress.value = 0;
    sendButton.disabled = true;
    try {
      const message = await upload('/api/messages/with-attachment', form, (fraction) => {
        progress.value = fraction;
      });
      if (destroyed) return;
      const data = { ...message, attachments: message.attachment ? [message.attachment] : [] };
      delete data.attachment;
      const empty = log.querySelector('#empty-conversation');
      if (empty) empty.remove();
      upsert(data);
      scrollToBottom();
      textarea.value = '';
      setAttachment(null);
    } catch (err) {
      replace(composeError, `The file was not sent: ${explain(err)}`);
    } finally {
      progress.hidden = true;
      sendButton.disabled = false;
    }
  }

  async function remove(entry, scope) {
    try {
      await api('DELETE', `/api/messages/${entry.data.id}?scope=${scope}`);
      applyDelete(entry.data.id, scope);
    } catch (err) {
      replace(notice, explain(err));
    }
  }

  function applyDelete(id, scope) {
    const entry = entries.get(id);
    if (!entry) return;
    if (scope === 'everyone') {
      entry.data = { id, sender_id: entry.data.sender_id, created_at: entry.data.created_at, deleted: true };
      redraw(entry);
    } else {
      entry.el.remove();
      entries.delete(id);
    }
  }

  function setBlocked(on) {
    blocked = on;
    replace(blockButton, on ? 'Unblock' : 'Block');
  }

  async function toggleBlock() {
    try {
      await api(blocked ? 'DELETE' : 'POST', `/api/users/${otherId}/block`);
      setBlocked(!blocked);
      replace(notice, blocked ? `You blocked ${displayName(partner())}. Neither of you can message the other.` : `You unblocked ${displayName(partner())}.`);
    } catch (err) {
      replace(notice, explain(err));
    }
  }

  async function loadPresence() {
    try {
      const p = await api('GET', `/api/users/${otherId}/presence`);
      setPresence(p.status);
    } catch {
      setPresence('unknown');
    }
  }

  function showTyping(frame) {
    clearTimeout(typingHideTimer);
    if (!frame.is_typing) {
      replace(typing);
      return;
    }
    replace(typing, `${displayName(partner())} is typing…`);
    typingHideTimer = setTimeout(() => replace(typing), (frame.expires_in_seconds || 3) * 1000 + 500);
  }

  function mineWithPartner(frame) {
    return frame.recipient_id === otherId && sameBooking(frame.booking_id, bookingId);
  }

  function onEvent(frame) {
    switch (frame.type) {
      case 'new_message':
        if (frame.sender_id !== otherId || !sameBooking(frame.booking_id, bookingId)) return;
        {
          const bottom = nearBottom();
          const empty = log.querySelector('#empty-conversation');
          if (empty) empty.remove();
          upsert({
            id: frame.message_id,
            sender_id: frame.sender_id,
            recipient_id: frame.recipient_id,
            message: frame.message,
            subject: frame.subject,
            created_at: frame.created_at,
            is_read: frame.is_read,
            is_edited: frame.is_edited,
            parent_message_id: frame.parent_message_id,
            attachments: [],
          });
          replace(typing);
          announce(`${displayName(partner())}: ${frame.subject ? frame.subject + '. ' : ''}${frame.message}`);
          if (bottom) scrollToBottom();
          scheduleMarkRead();
          scheduleRefresh();
        }
        return;
      case 'message_sent':
        if (!mineWithPartner(frame)) return;
        {
          const empty = log.querySelector('#empty-conversation');
          if (empty) empty.remove();
          const bottom = nearBottom();
          upsert({
            id: frame.message_id,
            client_message_id: frame.client_message_id,
            sender_id: me.id,
            recipient_id: frame.recipient_id,
            message: frame.message,
            subject: frame.subject,
            created_at: frame.created_at,
            parent_message_id: frame.parent_message_id,
          });
          if (bottom) scrollToBottom();
          scheduleRefresh();
        }
        return;
      case 'message_edited': {
        const entry = entries.get(frame.message_id);
        if (!entry || entry.editing) return;
        Object.assign(entry.data, { message: frame.new_content, is_edited: true, edited_at: frame.edited_at });
        redraw(entry);
        return;
      }
      case 'message_deleted':
        applyDelete(frame.message_id, frame.scope);
        return;
      case 'message_read': {
        const entry = entries.get(frame.message_id);
        if (entry) {
          entry.data.read_at = frame.read_at;
          entry.data.is_read = true;
          if (!entry.editing) redraw(entry);
        }
        return;
      }
      case 'thread_read':
        if (frame.reader_id !== otherId) return;
        for (const entry of entries.values()) {
          if (isMine(entry.data) && !entry.data.is_read && !entry.data.pending && !entry.data.deleted) {
            entry.data.is_read = true;
            if (!entry.editing) redraw(entry);
          }
        }
        return;
      case 'delivery_receipt': {
        const entry = entries.get(frame.message_id);
        if (entry && !entry.data.delivered) {
          entry.data.delivered = true;
          if (!entry.editing) redraw(entry);
        }
        return;
      }
      case 'attachment_scanned':
        for (const entry of entries.values()) {
          for (const a of entry.data.attachments || []) {
            if (a.id === frame.attachment_id) {
              a.scan_status = frame.scan_status;
              redraw(entry);
            }
          }
        }
        return;
      case 'typing':
        if (frame.user_id === otherId) showTyping(frame);
        return;
      case 'presence_status':
        if (frame.user_id === otherId) setPresence(frame.status);
        return;
      default:
    }
  }

  const onVisible = () => {
    if (document.visibilityState === 'visible') markRead(false);
  };
  document.addEventListener('visibilitychange', onVisible);

  renderHeader();
  load();
  loadPresence();
  textarea.focus();

  return {
    onEvent,
    threadsChanged: renderHeader,
    isShowing(id, booking) {
      return id === otherId && sameBooking(booking, bookingId) && document.visibilityState === 'visible';
    },
    reload: load,
    destroy() {
      destroyed = true;
      stopTyping();
      clearTimeout(markTimer);
      clearTimeout(refreshTimer);
      clearTimeout(typingHideTimer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}
