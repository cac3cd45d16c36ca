//! The report of a bench ws run: the tables docs/benchmarks.md quotes.

use super::*;

// ---- Report ----

pub(super) fn report(args: &WsArgs, lines: &[Value]) {
    let find = |kind: &str| lines.iter().find(|l| l["kind"] == kind);
    let null = Value::Null;
    let baseline = find("baseline").unwrap_or(&null);
    let connect = find("connect").unwrap_or(&null);
    let done = find("done").unwrap_or(&null);
    let base_rss = u(&baseline["rss_kib"]);
    let held = u(&connect["held"]).max(1);
    let per_connection = |rss: u64| rss.saturating_sub(base_rss) as f64 * 1024.0 / held as f64;
    let connected_rss = u(&connect["rss_kib"]);
    let final_rss = u(&done["rss_kib"]);
    let mib = |kib: u64| kib as f64 / 1024.0;

    println!();
    println!(
        "### {} connections ({} devices per recipient), one server instance",
        args.connections, args.devices_per_user
    );
    println!();
    println!("| measure | value | target |");
    println!("|---|---:|---|");
    println!(
        "| WebSockets held (`connected` frame read) / requested | {} / {} ({} failed) | {} |",
        connect["held"], connect["requested"], connect["failed"], args.connections
    );
    println!(
        "| sockets open in the server process (WebSockets, listener, database pool) | {} | |",
        connect["server_sockets"]
    );
    println!(
        "| time to open all, {} handshakes in flight | {:.1} s ({:.0} /s) | |",
        args.connect_concurrency,
        f(&connect["seconds"]),
        u(&connect["held"]) as f64 / f(&connect["seconds"])
    );
    println!(
        "| one handshake (upgrade to `connected` frame), p50 / p99 / max | {:.1} / {:.1} / {:.1} ms | |",
        f(&connect["ms"]["p50"]),
        f(&connect["ms"]["p99"]),
        f(&connect["ms"]["max"])
    );
    println!(
        "| server RSS, idle (baseline) | {:.1} MiB | |",
        mib(base_rss)
    );
    println!(
        "| server RSS, {} idle WebSockets | {:.1} MiB | |",
        connect["held"],
        mib(connected_rss)
    );
    let idle = per_connection(connected_rss);
    println!(
        "| **per idle connection** ((RSS - baseline) / held) | **{:.0} bytes = {:.1} KiB** | ≤ 16 KiB: {} |",
        idle,
        idle / 1024.0,
        if idle <= 16.0 * 1024.0 {
            "met"
        } else {
            "not met"
        }
    );
    let half_held = u(&connect["half_held"]);
    let marginal = u(&connect["rss_kib"]).saturating_sub(u(&connect["half_rss_kib"])) as f64
        * 1024.0
        / (u(&connect["held"]).saturating_sub(half_held)).max(1) as f64;
    println!(
        "| server RSS, first {} WebSockets | {:.1} MiB | |",
        half_held,
        mib(u(&connect["half_rss_kib"]))
    );
    println!(
        "| **marginal per idle connection** (growth over the second half / its connections) | **{:.0} bytes = {:.1} KiB** | ≤ 16 KiB: {} |",
        marginal,
        marginal / 1024.0,
        if marginal <= 16.0 * 1024.0 {
            "met"
        } else {
            "not met"
        }
    );
    let after = per_connection(final_rss);
    println!(
        "| server RSS after the delivery phases (per connection) | {:.1} MiB ({:.1} KiB) | |",
        mib(final_rss),
        after / 1024.0
    );
    if let Some(settled) = find("settled") {
        let rss = u(&settled["rss_kib"]);
        println!(
            "| server RSS {} s after every socket closed ({} files still open in the server) | {:.1} MiB ({:+.1} MiB from idle) | within 100 MiB of idle: {} |",
            settled["seconds"],
            settled["open_files"],
            mib(rss),
            mib(rss) - mib(base_rss),
            if rss <= base_rss + 100 * 1024 {
                "met"
            } else {
                "not met"
            }
        );
    }
    println!(
        "| WebSockets still open at the end | {} ({} ended{}) | {} |",
        done["connections_open"],
        done["ended"],
        done["first_end"]
            .as_str()
            .map(|e| format!("; first: {e}"))
            .unwrap_or_default(),
        connect["held"]
    );
    if let Some(failure) = connect["first_failure"].as_str() {
        println!();
        println!("First failed handshake: {failure}");
    }

    println!();
    println!();
    println!(
        "| deliveries/s target | achieved deliveries/s (sends/s) | deliveries read / expected | delivery p50 / p90 / p99 / max ms | baseline: HTTP send p50 / p90 / p99 / max ms | delivery p50 ÷ send p50 | target |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---|");
    let phases: Vec<&Value> = lines
        .iter()
        .filter(|l| l["kind"] == "phase" && l["offline"] != true)
        .collect();
    let offline = lines
        .iter()
        .filter(|l| l["kind"] == "phase" && l["offline"] == true);
    for phase in &phases {
        let d = &phase["delivery_ms"];
        let s = &phase["send_ms"];
        let rate = u(&phase["target_deliveries_per_s"]);
        let target = if rate == 1000 {
            format!(
                "p99 ≤ 10 ms: {}",
                if f(&d["p99"]) <= 10.0 {
                    "met"
                } else {
                    "not met"
                }
            )
        } else {
            String::new()
        };
        println!(
            "| {} | {:.0} ({:.0}) | {} / {} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2} / {:.2} / {:.2} / {:.2} | {:.2}x | {} |",
            rate,
            f(&phase["deliveries_per_s"]),
            f(&phase["sends_per_s"]),
            phase["deliveries"],
            phase["deliveries_expected"],
            f(&d["p50"]),
            f(&d["p90"]),
            f(&d["p99"]),
            f(&d["max"]),
            f(&s["p50"]),
            f(&s["p90"]),
            f(&s["p99"]),
            f(&s["max"]),
            f(&d["p50"]) / f(&s["p50"]),
            target
        );
        if u(&phase["send_errors"]) > 0 {
            println!(
                "|  | {} sends failed; first: {} | | | | | |",
                phase["send_errors"],
                phase["first_send_error"].as_str().unwrap_or_default()
            );
        }
        if u(&phase["unknown_frames"]) > 0 {
            println!(
                "|  | {} `new_message` frames named no send | | | | | |",
                phase["unknown_frames"]
            );
        }
    }
    for phase in offline {
        let s = &phase["send_ms"];
        println!(
            "| baseline: the same sends as at {}/s, recipients offline (no socket) | — ({:.0} sends/s) | — | — | {:.2} / {:.2} / {:.2} / {:.2} | | |",
            phase["target_deliveries_per_s"],
            f(&phase["sends_per_s"]),
            f(&s["p50"]),
            f(&s["p90"]),
            f(&s["p99"]),
            f(&s["max"]),
        );
    }
    if let Some(probe) = lines.iter().find(|l| l["kind"] == "flush_probe") {
        let ms = &probe["ms"];
        println!(
            "| baseline: the storage alone, 8 KiB written and flushed (`fdatasync`) {:.0} times/s, before the phases; flushes over 20 / 100 ms: {} / {} | — | — | — | {:.2} / {:.2} / {:.2} / {:.2} (one flush) | | |",
            f(&probe["rate"]),
            probe["over_20_ms"],
            probe["over_100_ms"],
            f(&ms["p50"]),
            f(&ms["p90"]),
            f(&ms["p99"]),
            f(&ms["max"]),
        );
    }
    println!();
    println!(
        "| phase | sends | server CPU per send | PostgreSQL CPU per send (all its processes) |"
    );
    println!("|---|---:|---:|---:|");
    for phase in lines.iter().filter(|l| l["kind"] == "phase") {
        println!(
            "| {} deliveries/s{} | {} + {} lead-in | {:.2} ms | {:.2} ms |",
            phase["target_deliveries_per_s"],
            if phase["offline"] == true {
                ", recipients offline"
            } else {
                ""
            },
            phase["planned_sends"],
            phase["lead_in_sends"],
            f(&phase["server_cpu_ms_per_send"]),
            f(&phase["postgres_cpu_ms_per_send"]),
        );
    }
    println!();
    println!(
        "| deliveries/s target | frame read − its send's 201 read: p50 / p90 / p99 / max ms | frames read before their 201 |"
    );
    println!("|---:|---:|---:|");
    for phase in &phases {
        let a = &phase["after_answer_ms"];
        println!(
            "| {} | {:.2} / {:.2} / {:.2} / {:.2} | {} of {} |",
            phase["target_deliveries_per_s"],
            f(&a["p50"]),
            f(&a["p90"]),
            f(&a["p99"]),
            f(&a["max"]),
            phase["before_answer"],
            phase["deliveries"]
        );
    }
}
