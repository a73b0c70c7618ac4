//! The one path by which content leaves: items are judged for their reader on what is recorded, those allowed are
//! opened, and the log commits one `disclosure` record per source organisation (and one `refusal` per source with
//! withheld items) before it hands back the released body.
use std::collections::BTreeMap;

use super::{sha256_hex, Exchange, ExchangeError, ItemView, Items, Read, Withheld};
use crate::cases::facts::{Facts, Recorded, Setting};
use crate::covenant::decision::Decision;
use crate::crypto::envelope::{DataKey, SealError};
use crate::log::actor::Actor;
use crate::log::chain::{Entry, Kind};
use crate::log::Appended;
use crate::store::ItemRow;
use crate::types::Oin;

type Judged<'i> = Vec<(&'i ItemRow, Decision)>;

/// What a read releases and withholds so far, and the records that will cover it.
#[derive(Default)]
pub(super) struct Judgement {
    pub body: Items,
    pub entries: Vec<Entry>,
}

/// One source's items, judged for the reader: allowed and denied, each with its decision.
struct Source<'i> {
    facts: Facts,
    allowed: Judged<'i>,
    denied: Judged<'i>,
}

impl Exchange<'_> {
    /// Judges every item (of a case that is not purged) for the reader on what is `recorded`, opens those allowed,
    /// and releases them through the log. Every call commits at least one record. With a `basis` (the facts
    /// generation `recorded` was read at), the records commit only if that is still the generation; `None` when it
    /// moved, and nothing is released.
    pub(super) async fn release(
        &self,
        actor: &Actor,
        recorded: &Recorded,
        setting: Setting,
        items: &[ItemRow],
        basis: Option<i64>,
    ) -> Result<Option<Read<Items>>, ExchangeError> {
        let mut out = Judgement::default();
        self.judge_into(&mut out, actor, recorded, setting, items)?;
        self.commit(out.body, out.entries, basis).await
    }

    /// Judges `items` (all of one meeting, `recorded`) for the reader and adds what is released and withheld, with
    /// the records that cover both, to `out`; nothing leaves until [`Exchange::commit`].
    pub(super) fn judge_into(
        &self,
        out: &mut Judgement,
        actor: &Actor,
        recorded: &Recorded,
        setting: Setting,
        items: &[ItemRow],
    ) -> Result<(), ExchangeError> {
        let key = self.data_key(recorded.case())?;
        for (source, judged) in self.judge(actor, recorded, setting, items) {
            if let Some((first, decision)) = judged.denied.first() {
                let offer = super::Offer {
                    case: recorded.case(),
                    meeting: recorded.meeting(),
                    request: None,
                    purpose: &first.purpose,
                };
                let mut entry = self.refusal(actor, &offer, (&source, Some(&actor.oin)), &first.category, decision);
                entry.categories = categories(judged.denied.iter().map(|(i, _)| *i));
                out.entries.push(entry);
                out.body.withheld.extend(judged.denied.iter().map(|(i, d)| Withheld {
                    source_oin: source.clone(),
                    category: i.category.clone(),
                    code: d.code().to_owned(),
                }));
            }
            if judged.allowed.is_empty() {
                continue;
            }
            let views = self.open(&key, recorded, &judged.allowed)?;
            out.entries
                .push(self.disclosure(actor, recorded, &source, &judged.allowed, &views));
            out.body.items.extend(views);
        }
        Ok(())
    }

    /// Every item judged for the reader, by source organisation (in OIN order).
    fn judge<'i>(
        &self,
        actor: &Actor,
        recorded: &Recorded,
        setting: Setting,
        items: &'i [ItemRow],
    ) -> BTreeMap<Oin, Source<'i>> {
        let mut by_source: BTreeMap<Oin, Source<'i>> = BTreeMap::new();
        for item in items {
            let source = by_source.entry(item.source_oin.clone()).or_insert_with(|| Source {
                facts: self.flow(recorded, &item.source_oin, &actor.oin, setting),
                allowed: Vec::new(),
                denied: Vec::new(),
            });
            let decision = source.facts.decide(self.covenant, &item.purpose, &item.category);
            if decision.allowed() {
                source.allowed.push((item, decision));
            } else {
                source.denied.push((item, decision));
            }
        }
        by_source
    }

    /// The allowed items of one source, opened.
    fn open(&self, key: &DataKey, recorded: &Recorded, allowed: &Judged<'_>) -> Result<Vec<ItemView>, ExchangeError> {
        let case = recorded.case();
        allowed
            .iter()
            .map(|(item, _)| {
                let sealed = item.sealed.as_deref().ok_or(ExchangeError::Purged)?;
                let text = key.open(case.id.as_str(), item.id.as_str(), sealed)?;
                let text = String::from_utf8(text).map_err(|_| SealError::Open)?;
                let content = serde_json::value::RawValue::from_string(text).map_err(|_| SealError::Open)?;
                Ok(ItemView {
                    id: item.id.clone(),
                    category: item.category.clone(),
                    content,
                    source_oin: item.source_oin.clone(),
                    created_at: item.created_at,
                    digest: item.digest.clone(),
                })
            })
            .collect()
    }

    /// Commits the records of a read and releases its body under them; when everything was withheld, only the
    /// refusals are recorded and nothing is released.
    pub(super) async fn commit(
        &self,
        body: Items,
        entries: Vec<Entry>,
        basis: Option<i64>,
    ) -> Result<Option<Read<Items>>, ExchangeError> {
        if body.items.is_empty() {
            let committed = match basis {
                None => self.log.append_all(entries).await.map(|_| true)?,
                Some(generation) => matches!(
                    self.log.append_all_at(entries, generation).await?,
                    Appended::Committed(_)
                ),
            };
            return Ok(committed.then_some(Read::Nothing(body)));
        }
        Ok(match basis {
            None => Some(self.log.release(body, entries).await?),
            Some(generation) => self.log.release_at(body, entries, generation).await?,
        }
        .map(Read::Released))
    }

    /// The `disclosure` record of one source's released items.
    fn disclosure(
        &self,
        actor: &Actor,
        recorded: &Recorded,
        source: &Oin,
        allowed: &Judged<'_>,
        views: &[ItemView],
    ) -> Entry {
        let (case, meeting) = (recorded.case(), recorded.meeting());
        let mut articles: Vec<String> = allowed.iter().flat_map(|(_, d)| d.articles.clone()).collect();
        articles.sort();
        articles.dedup();
        let digests: String = views.iter().map(|v| format!("{}\n", v.digest)).collect();
        let first = allowed.first();
        actor.stamp(Entry {
            source_oin: Some(source.to_string()),
            recipient_oin: Some(actor.oin.to_string()),
            actor_oin: Some(actor.oin.to_string()),
            actor_sub: Some(actor.sub.clone()),
            case_id: Some(case.id.to_string()),
            subject: Some(case.subject.clone()),
            meeting_id: Some(meeting.id.to_string()),
            meeting_type: Some(meeting.meeting_type.clone()),
            purpose: first.map(|(item, _)| item.purpose.clone()),
            categories: categories(allowed.iter().map(|(i, _)| *i)),
            covenant_version: first.map(|(_, d)| d.covenant_version.clone()),
            article: Some(articles.join("; ")),
            content_digest: Some(sha256_hex(digests.as_bytes())),
            reason: Some(format!("{} item(s)", views.len())),
            ..Entry::new(Kind::Disclosure)
        })
    }
}

/// The distinct categories of `items`, sorted.
fn categories<'a>(items: impl Iterator<Item = &'a ItemRow>) -> Vec<String> {
    let mut c: Vec<String> = items.map(|i| i.category.clone()).collect();
    c.sort();
    c.dedup();
    c
}
