//! The store's contract, the same on both backends: writes commit together with the log records written into
//! their transaction or not at all; rows come back as the typed values written; a value that does not parse is
//! reported, not passed on; conditional writes say what they came to.
use crate::both;
use crate::helpers::*;
use doelpoort::log::chain::{Entry, Kind};
use doelpoort::log::{commit_if, record_in, Records};
use doelpoort::store::{
    AttendeeRow, CaseRow, Change, ConsentRow, ItemRow, MeetingRow, MemberRow, RequestRow, StoreError,
};
use doelpoort::types::{
    AnswerStatus, CaseId, CaseStatus, ConsentId, Instant, ItemId, MeetingId, MeetingStatus, Oin, RequestId,
};

both!(
    a_change_commits_with_its_record_or_not_at_all,
    rows_come_back_as_the_typed_values_written,
    a_value_that_does_not_parse_is_reported_corrupt,
    conditional_writes_say_what_they_came_to,
);

fn now() -> Instant {
    time::OffsetDateTime::now_utc().into()
}

fn oin(n: u8) -> Oin {
    typed(&format!("000000990000000000{n:02}"))
}

fn case(id: &CaseId) -> CaseRow {
    CaseRow {
        id: id.clone(),
        reported_at: now(),
        reporter_oin: oin(2),
        holder_oin: oin(2),
        subject: "ab".repeat(32),
        status: CaseStatus::Open,
        closed_at: None,
        master_key_id: Some("mk".into()),
        data_key: Some(vec![1, 2, 3]),
        sealed_subject: Some(vec![4]),
        sealed_summary: Some(vec![5]),
    }
}

fn meeting(id: &MeetingId) -> MeetingRow {
    MeetingRow {
        id: id.clone(),
        meeting_type: "focus".into(),
        starts_at: now(),
        ends_at: now() + time::Duration::hours(1),
        status: MeetingStatus::Open,
        created_by_oin: oin(1),
        created_at: now(),
        closed_at: None,
    }
}

fn admin(action: &str) -> Entry {
    Entry {
        action: Some(action.into()),
        ..Entry::new(Kind::Admin)
    }
}

/// A database with the organisations the rows name (cases and meetings refer to them).
async fn seeded(b: Backend) -> TestDb {
    let db = TestDb::new(b).await;
    let mut tx = db.store.begin().await.unwrap();
    for n in 1..=8 {
        let org = doelpoort::store::NewOrganisation {
            oin: oin(n).to_string(),
            name: format!("Org {n}"),
            kind: "ketenpartner".into(),
            roles: "politie".into(),
            municipalities: String::new(),
            keys: vec![],
        };
        tx.insert_organisation(&org, &now().to_string()).await.unwrap();
    }
    tx.commit().await.unwrap();
    db
}

async fn head(db: &TestDb) -> i64 {
    Records::new(db.store.clone()).head().await.unwrap().0
}

async fn a_change_commits_with_its_record_or_not_at_all(b: Backend) {
    let db = seeded(b).await;
    let id = CaseId::generate();
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_case(&case(&id), "reporter").await.unwrap();
    record_in(&mut tx, vec![admin("case.report")], now()).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(db.store.case(&id).await.unwrap().is_none(), "rolled back: no case");
    assert_eq!(head(&db).await, 0, "rolled back: no record");

    let mut tx = db.store.begin().await.unwrap();
    tx.insert_case(&case(&id), "reporter").await.unwrap();
    doelpoort::log::commit_with(tx, admin("case.report"), now())
        .await
        .unwrap();
    assert!(db.store.case(&id).await.unwrap().is_some());
    assert_eq!(head(&db).await, 1);

    // A change that changed nothing is rolled back with its record.
    let member = MemberRow {
        oin: oin(2),
        since: now(),
        reason: "reporter".into(),
    };
    let mut tx = db.store.begin().await.unwrap();
    let added = tx.add_case_member(&id, &member).await.unwrap();
    assert!(!added, "the reporter is a member already");
    assert!(!commit_if(tx, added, admin("case.member.grant"), now()).await.unwrap());
    assert_eq!(head(&db).await, 1, "nothing recorded");
    db.drop().await;
}

async fn rows_come_back_as_the_typed_values_written(b: Backend) {
    let db = seeded(b).await;
    let (case_id, meeting_id, request_id) = (CaseId::generate(), MeetingId::generate(), RequestId::generate());
    let written = case(&case_id);
    let m = meeting(&meeting_id);
    let attendee = AttendeeRow {
        oin: oin(5),
        added_at: now(),
        declaration_signed_by: Some("J. de Vries".into()),
        declaration_signed_at: Some(now()),
    };
    let consent = ConsentRow {
        id: ConsentId::generate(),
        case_id: case_id.clone(),
        categories: vec!["leefgebieden".into()],
        organisations: vec![oin(1)],
        valid_until: now() + time::Duration::days(1),
        recorded_by_oin: oin(8),
        recorded_by_sub: "w-1".into(),
        recorded_at: now(),
        withdrawn_at: None,
    };
    let request = RequestRow {
        id: request_id.clone(),
        case_id: case_id.clone(),
        meeting_id: meeting_id.clone(),
        purpose: "integraal_plan".into(),
        categories: vec!["leefgebieden".into()],
        requester_oin: oin(1),
        requester_sub: "r-1".into(),
        due: now() + time::Duration::days(2),
        created_at: now(),
    };
    let item = ItemRow {
        id: ItemId::generate(),
        case_id: case_id.clone(),
        request_id: Some(request_id.clone()),
        meeting_id: meeting_id.clone(),
        purpose: "integraal_plan".into(),
        source_oin: oin(5),
        source_sub: "g-1".into(),
        category: "leefgebieden".into(),
        position: 0,
        digest: "cd".repeat(32),
        sealed: Some(vec![9, 9]),
        created_at: now(),
    };
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_case(&written, "reporter").await.unwrap();
    tx.insert_meeting(&m).await.unwrap();
    assert_eq!(tx.add_attendee(&meeting_id, &attendee).await.unwrap(), Change::Done);
    assert_eq!(
        tx.add_agenda_case(&meeting_id, &case_id, now()).await.unwrap(),
        Change::Done
    );
    tx.insert_consent(&consent).await.unwrap();
    tx.insert_request(&request, &[(oin(5), None)]).await.unwrap();
    let outcome = (AnswerStatus::Answered, None);
    assert!(tx
        .settle_request(&request_id, &oin(5), outcome, std::slice::from_ref(&item), now())
        .await
        .unwrap());
    tx.commit().await.unwrap();

    let read = db.store.case(&case_id).await.unwrap().unwrap();
    assert_eq!(
        (read.id, read.status, read.reported_at),
        (case_id.clone(), CaseStatus::Open, written.reported_at)
    );
    assert_eq!(db.store.meeting(&meeting_id).await.unwrap().unwrap(), m);
    let attendees = db.store.meeting_attendees(&meeting_id).await.unwrap();
    assert_eq!(attendees.iter().find(|a| a.oin == oin(5)), Some(&attendee));
    assert_eq!(
        db.store.meeting_agenda(&meeting_id).await.unwrap(),
        std::slice::from_ref(&case_id)
    );
    let facts = db.store.case_in_meeting(&case_id, &meeting_id).await.unwrap();
    assert!(facts.on_agenda && facts.members == [oin(2)]);
    assert_eq!(facts.consents[0].valid_until, consent.valid_until);
    assert_eq!(
        db.store.consents(&case_id).await.unwrap(),
        std::slice::from_ref(&consent)
    );
    let (mut tx, at) = (db.store.begin().await.unwrap(), now());
    assert!(tx.withdraw_consent(&consent.id, (&oin(8), "w-1"), at).await.unwrap());
    assert!(
        !tx.withdraw_consent(&consent.id, (&oin(8), "w-1"), at).await.unwrap(),
        "once"
    );
    tx.commit().await.unwrap();
    let withdrawn = db.store.consent(&case_id, &consent.id).await.unwrap().unwrap();
    assert_eq!(withdrawn.withdrawn_at, Some(at));
    let facts = db.store.case_in_meeting(&case_id, &meeting_id).await.unwrap();
    assert_eq!(facts.consents[0].withdrawn_at, Some(at));
    assert!(
        !facts.consents[0].valid_at(at),
        "withdrawn: lets nothing through from then on"
    );
    let rows = db.store.request(&request_id).await.unwrap().unwrap();
    assert_eq!(rows.request, request);
    assert_eq!(rows.addressees[0].status, AnswerStatus::Answered);
    assert_eq!(db.store.request_items(&request_id).await.unwrap(), [item]);
    db.drop().await;
}

async fn a_value_that_does_not_parse_is_reported_corrupt(b: Backend) {
    let db = seeded(b).await;
    let id = CaseId::generate();
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_case(&case(&id), "reporter").await.unwrap();
    tx.commit().await.unwrap();
    let pool = sqlx::AnyPool::connect(&db.url).await.unwrap();
    sqlx::query("UPDATE cases SET status = 'paused' WHERE id = $1")
        .bind(id.as_str())
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(matches!(db.store.case(&id).await, Err(StoreError::Corrupt("c_status"))));
    db.drop().await;
}

async fn conditional_writes_say_what_they_came_to(b: Backend) {
    let db = seeded(b).await;
    let (case_id, meeting_id) = (CaseId::generate(), MeetingId::generate());
    let mut tx = db.store.begin().await.unwrap();
    tx.insert_case(&case(&case_id), "reporter").await.unwrap();
    tx.insert_meeting(&meeting(&meeting_id)).await.unwrap();
    tx.commit().await.unwrap();

    let mut tx = db.store.begin().await.unwrap();
    assert_eq!(
        tx.add_agenda_case(&meeting_id, &case_id, now()).await.unwrap(),
        Change::Done
    );
    assert_eq!(
        tx.add_agenda_case(&meeting_id, &case_id, now()).await.unwrap(),
        Change::Duplicate
    );
    assert_eq!(
        tx.close_meeting(&meeting_id, now(), "done").await.unwrap(),
        Change::Done
    );
    assert_eq!(
        tx.close_meeting(&meeting_id, now(), "done").await.unwrap(),
        Change::Closed
    );
    let late = AttendeeRow {
        oin: oin(3),
        added_at: now(),
        declaration_signed_by: None,
        declaration_signed_at: None,
    };
    assert_eq!(tx.add_attendee(&meeting_id, &late).await.unwrap(), Change::Closed);
    assert!(
        !tx.purge_case(&case_id, now()).await.unwrap(),
        "an open case is not purged"
    );
    assert!(tx.close_case(&case_id, now(), &[]).await.unwrap());
    assert!(!tx.close_case(&case_id, now(), &[]).await.unwrap(), "closed already");
    assert!(!tx.replace_wrapped_key(&case_id, "other", "new", &[7]).await.unwrap());
    assert!(tx.replace_wrapped_key(&case_id, "mk", "new", &[7]).await.unwrap());
    assert!(tx.purge_case(&case_id, now()).await.unwrap());
    tx.commit().await.unwrap();
    let purged = db.store.case(&case_id).await.unwrap().unwrap();
    assert_eq!(purged.status, CaseStatus::Purged);
    assert!(purged.data_key.is_none() && purged.sealed_subject.is_none());
    assert!(db.store.wrapped_keys().await.unwrap().is_empty());
    db.drop().await;
}
