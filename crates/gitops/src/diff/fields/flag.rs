//! A flag's fields in reading order: what it is (description, owner,
//! kind, expiry, who may read it, type, variants), then what it serves
//! (kill switch, default, offVariant, bucketing, rules, rollout).

use hotswap_flags_core::escape::Words;
use hotswap_flags_core::model::{Flag, Serve};

use super::rollout::rollout_changes;
use super::rules::rules_changes;
use super::serve::serve_changes;
use super::variants::variant_changes;
use super::{FieldChange, description_change, scalar_change};

/// Every difference between two versions of a flag, in reading order.
pub fn flag_changes(a: &Flag, b: &Flag) -> Vec<FieldChange> {
    let mut out = Vec::new();
    description_change(a.description.as_ref(), b.description.as_ref(), &mut out);
    metadata_changes(a, b, &mut out);
    client_side_change(a, b, &mut out);
    if a.kind != b.kind {
        out.push(
            FieldChange::new(
                "type",
                Words::new().ours(format!("type {} → {}", a.kind, b.kind)),
            )
            .values(Some(&a.kind), Some(&b.kind)),
        );
    }
    variant_changes(&a.variants, &b.variants, &mut out);
    kill_switch_change(a, b, &mut out);
    serve_changes(
        "default",
        &Words::from("default"),
        &a.default,
        &b.default,
        &mut out,
    );
    let off_variant =
        |v: Option<&String>| v.map_or_else(|| Words::from("(default)"), |v| Words::new().bare(v));
    let variants = (a.off_variant.as_ref(), b.off_variant.as_ref());
    scalar_change(&mut out, "offVariant", "offVariant", variants, off_variant);
    bucket_by_change(a, b, &mut out);
    bucketing_change(a, b, &mut out);
    rules_changes(&a.rules, &b.rules, &mut out);
    rollout_changes(a.rollout.as_ref(), b.rollout.as_ref(), &mut out);
    out
}

/// What a reviewer must see even in a flag that is new: that every
/// browser may read it.
pub fn added_flag_fields(flag: &Flag) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if flag.client_side {
        out.push(
            FieldChange::new(
                "clientSide",
                "visible to client-side SDKs (clientSide: true)",
            )
            .values(None::<&bool>, Some(&true)),
        );
    }
    out
}

/// Who owns the flag, its kind and its expiry (docs/lifecycle.md): they
/// serve nobody differently, but a reviewer sees a flag change hands or
/// get more time.
fn metadata_changes(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    let or_none =
        |s: Option<String>| s.map_or_else(|| Words::from("(none)"), |s| Words::new().bare(s));
    scalar_change(
        out,
        "owner",
        "owner",
        (a.owner.as_ref(), b.owner.as_ref()),
        |o| or_none(o.cloned()),
    );
    scalar_change(
        out,
        "kind",
        "kind",
        (a.lifecycle.as_ref(), b.lifecycle.as_ref()),
        |k| or_none(k.map(ToString::to_string)),
    );
    scalar_change(
        out,
        "expires",
        "expires",
        (a.expires.as_ref(), b.expires.as_ref()),
        |d| or_none(d.map(ToString::to_string)),
    );
    let as_json = |m: Option<&indexmap::IndexMap<String, serde_json::Value>>| {
        m.map_or_else(
            || Words::from("(none)"),
            |m| Words::new().bare(serde_json::to_string(m).unwrap_or_default()),
        )
    };
    scalar_change(
        out,
        "metadata",
        "metadata",
        (a.metadata.as_ref(), b.metadata.as_ref()),
        |m| as_json(m),
    );
}

/// Whether client-side SDKs may evaluate the flag: a flag becoming
/// visible to every browser is a change of who can read it.
fn client_side_change(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    if a.client_side != b.client_side {
        let text = if b.client_side {
            "now visible to client-side SDKs (clientSide: true)"
        } else {
            "no longer visible to client-side SDKs"
        };
        out.push(
            FieldChange::new("clientSide", text).values(Some(&a.client_side), Some(&b.client_side)),
        );
    }
}

/// `enabled`: the kill switch thrown (and what everyone gets then) or
/// released.
fn kill_switch_change(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    if a.enabled == b.enabled {
        return;
    }
    let text = if b.enabled {
        Words::from("kill switch off: flag enabled again")
    } else {
        let gets = Words::from("kill switch on: everyone gets ");
        let default = match &b.default {
            Serve::Variant(v) => Some(v.as_str()),
            Serve::Split(_) => None,
        };
        match b.off_variant.as_deref().or(default) {
            Some(v) => gets.bare(v),
            None => gets.ours("the offVariant"),
        }
    };
    out.push(FieldChange::new("enabled", text).values(Some(&a.enabled), Some(&b.enabled)));
}

/// The attribute users are bucketed by: another reshuffles them.
fn bucket_by_change(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    if a.bucket_by != b.bucket_by {
        out.push(
            FieldChange::new(
                "bucketBy",
                Words::from("bucketBy ")
                    .bare(a.bucket_by.as_deref().unwrap_or("targetingKey"))
                    .ours(" → ")
                    .bare(b.bucket_by.as_deref().unwrap_or("targetingKey"))
                    .ours(" (users reshuffled)"),
            )
            .values(a.bucket_by.as_ref(), b.bucket_by.as_ref()),
        );
    }
}

/// How users are hashed into buckets (docs/flag-format.md §6, Bucketing
/// modes): another mode reshuffles them, splits and rollout alike. Absent
/// and `xxh3` are the same mode and no change.
fn bucketing_change(a: &Flag, b: &Flag, out: &mut Vec<FieldChange>) {
    let (before, after) = (
        a.bucketing.unwrap_or_default(),
        b.bucketing.unwrap_or_default(),
    );
    if before != after {
        out.push(
            FieldChange::new(
                "bucketing",
                Words::from("bucketing ")
                    .bare(before)
                    .ours(" → ")
                    .bare(after)
                    .ours(" (users reshuffled)"),
            )
            .values(Some(&before), Some(&after)),
        );
    }
}
