//! `doelpoort audit verify` and `doelpoort audit export`.
use super::{say, usage, ConfigArg, ExportArgs, ExportFormat, Failure};
use crate::types::clock::{Clock, SystemClock};

/// The checkpoint note in an anchor file: the note itself, or a witness's state file (`doelpoort witness`), whose
/// `note` it is.
fn anchor_note(text: &str) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|state| state.get("note")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| text.to_owned())
}

pub async fn verify(c: &ConfigArg, anchors: &[std::path::PathBuf]) -> Result<(), Failure> {
    let (config, store) = super::open(c).await?;
    let current = match &config.log.checkpoint_key_file {
        Some(path) => Some(crate::crypto::CheckpointSigner::from_file(path)?.public_key()),
        None => {
            eprintln!("note: no log.checkpoint_key_file is configured; only retired checkpoint keys are trusted");
            None
        }
    };
    let mut held = Vec::new();
    for path in anchors {
        let text = std::fs::read_to_string(path).map_err(|e| usage(format!("{}: {e}", path.display())))?;
        held.push(anchor_note(&text));
    }
    let trust = crate::log::verify::Trust {
        anchors: held,
        ..crate::log::verify::Trust::configured(
            &config.log,
            &config.host_oin,
            current,
            crate::types::clock::rfc3339(SystemClock.now()),
        )
    };
    let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} records ({per_sec})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = crate::log::verify::verify(&crate::log::Records::new(store.clone()), &trust, |done, total| {
        bar.set_length(u64::try_from(total).unwrap_or(0));
        bar.set_position(u64::try_from(done).unwrap_or(0));
    })
    .await;
    bar.finish_and_clear();
    store.close().await;
    let report = result?;
    say!(
        "the disclosure log is intact: {} records, {} checkpoints, tree root {}, {} anchors extended",
        report.records,
        report.checkpoints,
        report.root,
        report.anchors
    );
    Ok(())
}

pub async fn export(a: ExportArgs, who: &super::operator::Operator) -> Result<(), Failure> {
    let actor = who.actor()?;
    let (config, store) = super::open(&a.c).await?;
    let secret = match (&config.log.pseudonym_key_file, &a.bsn) {
        (Some(path), _) => crate::crypto::read_secret(path)?,
        (None, Some(_)) => return Err(usage("--bsn needs log.pseudonym_key_file in the configuration")),
        // Without a BSN filter the key only signs cursors, which an export does not use.
        (None, None) => vec![0u8; 32],
    };
    let pseudonyms = crate::crypto::Pseudonymiser::new(&secret);
    let filters = crate::log::audit::Filters {
        bsn: a.bsn,
        case_id: a.case_id,
        organisation: a.organisation,
        source: a.source,
        recipient: a.recipient,
        kind: a.kind,
        action: a.action,
        from: a.from,
        to: a.to,
        ..Default::default()
    };
    let mut query = filters.parse(&pseudonyms, None).map_err(|e| usage(e.to_string()))?;
    // The export ends at today's head, so the count its own record carries is what it writes.
    let records = crate::log::Records::new(store.clone());
    query.filter.through = Some(records.head().await?.0);
    let matching = records.count(&query.filter).await?;
    let returned = usize::try_from(matching).unwrap_or(usize::MAX);
    let entry = crate::log::audit::read_entry("audit.export", &actor, &query.filter, Some(returned));
    crate::log::commit_with(store.begin().await?, entry, SystemClock.now().into()).await?;
    let format = match a.format {
        ExportFormat::Jsonl => crate::log::audit::Format::Jsonl,
        ExportFormat::Csv => crate::log::audit::Format::Csv,
        ExportFormat::Ldv => crate::log::audit::Format::Ldv,
    };
    let count = match &a.out {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| Failure::from(format!("cannot create {}: {e}", path.display())))?;
            crate::log::audit::export(&records, &query.filter, format, file).await
        }
        None => crate::log::audit::export(&records, &query.filter, format, std::io::stdout().lock()).await,
    };
    store.close().await;
    let count = count?;
    if a.out.is_some() {
        say!("exported {count} records");
    }
    Ok(())
}
