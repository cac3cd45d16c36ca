//! Reading messages: conversations, threads and the inbox, histories, sent messages, search and
//! unread counts, each ordered and paged as the SQL store does it.

use std::collections::BTreeMap;

use messaging_domain::message::{
    Conversation, HistoryRequest, HistorySlice, Message, SearchResults, ThreadSummary, UnreadCounts,
};
use messaging_domain::text::{Page, SearchQuery, words};
use messaging_domain::user::{BookingId, UserId};

use crate::state::{State, ordered};

/// The items of `page` out of `items`.
pub(crate) fn paged<T>(items: impl Iterator<Item = T>, offset: i64, limit: i64) -> Vec<T> {
    let offset = usize::try_from(offset).unwrap_or(0);
    let limit = usize::try_from(limit).unwrap_or(0);
    items.skip(offset).take(limit).collect()
}

impl State {
    /// Every conversation between two users.
    pub(crate) fn conversations_between(&self, a: UserId, b: UserId) -> Vec<Conversation> {
        self.by_pair
            .get(&ordered(a, b))
            .into_iter()
            .flatten()
            .filter_map(|id| self.conversations.get(id))
            .map(|c| c.conversation.clone())
            .collect()
    }

    /// A page of `user`'s threads, most recent activity first; conversations where they can see
    /// no message are left out.
    pub(crate) fn thread_page(
        &self,
        user: UserId,
        offset: i64,
        limit: i64,
        unread_only: bool,
    ) -> Vec<ThreadSummary> {
        let mut threads: Vec<ThreadSummary> = self
            .by_member
            .get(&user)
            .into_iter()
            .flatten()
            .filter_map(|&id| {
                let row = self.conversations.get(&id)?;
                let last = self.last_visible(id, user)?;
                let conversation = &row.conversation;
                let other = if conversation.user_low == user {
                    conversation.user_high
                } else {
                    conversation.user_low
                };
                let other = self.users.get(&other)?;
                Some(ThreadSummary {
                    conversation_id: id,
                    other_user: other.user.summary(),
                    booking_id: conversation.booking_id,
                    last_message_id: last.id,
                    last_message: last.body.clone(),
                    last_subject: last.subject.clone(),
                    last_message_at: last.created_at,
                    last_sender_id: last.sender_id,
                    unread_count: self.unread_in(id, user),
                })
            })
            .filter(|t| !unread_only || t.unread_count > 0)
            .collect();
        threads.sort_by_key(|t| std::cmp::Reverse(t.last_message_id));
        paged(threads.into_iter(), offset, limit)
    }

    /// A page of the messages between `user` and `other` that `user` can see: page 1 (or the
    /// page before the keyset cursor) is the newest, each page oldest first.
    pub(crate) fn history(
        &self,
        user: UserId,
        other: UserId,
        booking: Option<BookingId>,
        request: HistoryRequest,
    ) -> HistorySlice<Message> {
        let mut visible: Vec<&Message> = self
            .member_conversations(user, other, booking)
            .into_iter()
            .flat_map(|id| self.conversation_messages(id))
            .filter(|m| m.is_visible_to(user))
            .filter(|m| request.before.is_none_or(|before| m.id < before))
            .collect();
        visible.sort_by_key(|m| std::cmp::Reverse(m.id));
        let offset = match request.before {
            Some(_) => 0,
            None => request.page.offset(),
        };
        let size = request.page.limit();
        let mut page: Vec<Message> = paged(visible.into_iter(), offset, size + 1)
            .into_iter()
            .cloned()
            .collect();
        let has_more = i64::try_from(page.len()).unwrap_or(i64::MAX) > size;
        page.truncate(usize::try_from(size).unwrap_or(0));
        // Found newest first; shown oldest first.
        page.reverse();
        HistorySlice {
            messages: page,
            has_more,
        }
    }

    /// The messages `user` sent and can still see, newest first.
    pub(crate) fn sent(&self, user: UserId, page: Page) -> Vec<Message> {
        let sent = self
            .messages
            .values()
            .rev()
            .filter(|m| m.sender_id == user && m.is_visible_to(user))
            .cloned();
        paged(sent, page.offset(), page.limit())
    }

    /// The messages `user` can see whose words begin with every term of `query`, best match
    /// first (the most words matched), newer first among equals.
    pub(crate) fn search(
        &self,
        user: UserId,
        query: &SearchQuery,
        page: Page,
    ) -> SearchResults<Message> {
        let terms = query.terms();
        if terms.is_empty() {
            return SearchResults {
                messages: Vec::new(),
                total: 0,
            };
        }
        let mut hits: Vec<(usize, &Message)> = self
            .by_member
            .get(&user)
            .into_iter()
            .flatten()
            .flat_map(|&id| self.conversation_messages(id))
            .filter(|m| m.is_visible_to(user))
            .filter_map(|m| score(m, &terms).map(|s| (s, m)))
            .collect();
        hits.sort_by(|(sa, a), (sb, b)| sb.cmp(sa).then(b.id.cmp(&a.id)));
        let total = i64::try_from(hits.len()).unwrap_or(i64::MAX);
        let messages = paged(hits.into_iter(), page.offset(), page.limit())
            .into_iter()
            .map(|(_, m)| m.clone())
            .collect();
        SearchResults { messages, total }
    }

    /// Unread messages to `user` that `user` can see, in total and per sender (in id order).
    pub(crate) fn unread_counts(&self, user: UserId) -> UnreadCounts {
        let mut by_sender: BTreeMap<UserId, i64> = BTreeMap::new();
        for &id in self.by_member.get(&user).into_iter().flatten() {
            let unread = self.unread_in(id, user);
            if unread == 0 {
                continue;
            }
            if let Some(row) = self.conversations.get(&id) {
                let c = &row.conversation;
                let other = if c.user_low == user {
                    c.user_high
                } else {
                    c.user_low
                };
                *by_sender.entry(other).or_default() += unread;
            }
        }
        UnreadCounts {
            total: by_sender.values().sum(),
            by_sender: by_sender.into_iter().collect(),
        }
    }
}

/// How well a message matches: `None` unless every term begins one of its words (subject and
/// body, read by the domain's [`words`] as the databases index them), else how many of its words
/// a term begins.
fn score(message: &Message, terms: &[String]) -> Option<usize> {
    let indexed: Vec<String> = words(message.subject.as_deref().unwrap_or_default())
        .chain(words(&message.body))
        .collect();
    let matches = |word: &String| terms.iter().any(|t| word.starts_with(t.as_str()));
    if !terms
        .iter()
        .all(|t| indexed.iter().any(|w| w.starts_with(t.as_str())))
    {
        return None;
    }
    Some(indexed.iter().filter(|w| matches(w)).count())
}
